"""Files written whole or not at all: a temp file beside the target, then a rename.

One door for every file eightflow writes that someone may be reading, or that a crash
must not leave half-written: a batch's ``results.csv`` / ``results.parquet`` /
``trace.jsonl`` / ``report.md`` (``eightflow_app.tasks.publishing``) and the labelled CSV
of ``eightflow review export``.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from eightflow.errors import WorkflowError
from eightflow.runtime.failpoints import failpoint
from eightflow.safety.path_roots import open_new_file, open_output_dir

_UMASK = os.umask(0)
os.umask(_UMASK)


class FileExistsRefused(WorkflowError):
    """The target exists and the caller asked not to replace it (the message names it)."""


@contextmanager
def atomic_write(
    path: Path,
    mode: str = "w",
    newline: str | None = None,
    dir_fd: int | None = None,
    replace: bool = True,
) -> Iterator[IO[Any]]:
    """Write ``path`` whole or not at all: a temp file beside it, then ``os.replace``.

    Both names are used beneath a checked folder descriptor (``dir_fd``, else the parent
    folder opened and checked here), never through a link planted at either name. With
    ``replace=False`` an existing ``path`` is never overwritten: the finished file is
    linked into place, which fails if the name was taken meanwhile
    (:class:`FileExistsRefused`, naming it), so the check and the write are one step.
    """
    own_fd = dir_fd is None
    if own_fd:
        path.parent.mkdir(parents=True, exist_ok=True)
        dir_fd = open_output_dir(path.parent)
    assert dir_fd is not None
    tmp = f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        handle = open_new_file(tmp, mode, dir_fd=dir_fd, exclusive=True, newline=newline)
        try:
            with handle as fh:
                yield fh
                fh.flush()
                os.fchmod(fh.fileno(), 0o666 & ~_UMASK)  # results are for reading
                os.fsync(fh.fileno())
            failpoint("output_write")
            if replace:
                os.replace(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            else:
                _link_new(tmp, path, dir_fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
    finally:
        if own_fd:
            os.close(dir_fd)


def _link_new(tmp: str, path: Path, dir_fd: int) -> None:
    """Give the finished temp file the name ``path`` only if no file has it."""
    try:
        os.link(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except FileExistsError:
        raise FileExistsRefused(f"{path}: already exists; not replaced") from None
    os.unlink(tmp, dir_fd=dir_fd)
