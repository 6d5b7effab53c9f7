"""One batch at a time per results folder: an advisory lock on the folder itself.

Two batches writing the same ``--out`` would interleave their spools and replace each
other's ``results.csv``. The second one to arrive waits for the first, and says so. The
lock is a ``flock`` on the folder's own descriptor (no lock file is left among the
results), and it dies with its process: a batch killed with ``kill -9`` never leaves the
folder locked.

The folder's descriptor is opened once, without following a link, and checked to lie
under the output root (:func:`eightflow.safety.path_roots.open_output_dir`); writers then create
their files beneath it (``lock.fd`` as ``dir_fd``), so a folder swapped for a link after
the check is never written through.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from eightflow.safety.path_roots import open_output_dir


def _say(message: str) -> None:
    # Not print(): inside a flow with log_prints, Prefect turns prints into INFO logs.
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    logging.getLogger("eightflow.batch").warning(message)


class OutDirLock:
    """Hold ``out``'s lock from :meth:`acquire` until :meth:`release` (or process exit)."""

    def __init__(self, out_dir: Path, say: Callable[[str], None] | None = None) -> None:
        self.path = out_dir
        self.say = say or _say
        self._fd: int | None = None
        self.waited = False

    def acquire(self) -> OutDirLock:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = open_output_dir(self.path)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.say(
                    f"another batch is writing to {self.path}; "
                    "waiting for it to finish before this one writes there"
                )
                self.waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    @property
    def fd(self) -> int:
        """The locked folder's checked descriptor: create files beneath it (``dir_fd``)."""
        if self._fd is None:
            raise RuntimeError(f"{self.path} is not locked")
        return self._fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self) -> OutDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
