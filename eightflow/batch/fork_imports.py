"""Forking a worker while another thread is half-way through an import.

A fork copies the locks of imports in progress in other threads, owned by threads the
child does not have: the child's first use of such a module waits for ever. The batch's
worker pool (:mod:`eightflow.batch.workers`) forks inside :func:`quiet_imports`, and says
so in its log when it had to give up waiting (:func:`warn_busy_fork`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def imports_in_flight() -> list[str]:
    """Modules another thread is half-way through importing (their import locks are held)."""
    import importlib

    bootstrap: Any = importlib.import_module("importlib._bootstrap")
    busy = []
    for name, ref in list(bootstrap._module_locks.items()):
        lock = ref()
        if lock is not None and lock.count:  # 3.11: a depth; 3.12+: a list of owners
            busy.append(name)
    return busy


@contextmanager
def quiet_imports(timeout_s: float = 10.0) -> Iterator[list[str]]:
    """Hold the interpreter's import lock at a moment no other thread is inside an import.

    Forking copies the locks of imports in progress in other threads, owned by threads the
    child does not have: the child's first use of such a module waits for ever. Seen in a
    shard of ``bench/scale.py`` (issue 23): a Prefect thread was importing croniter (which
    runs ``file`` in a subprocess at import) when the batch forked its worker; the worker
    hung on croniter's module lock, and the flow's process waited for the worker's outcomes
    for ever (the forked child also held the subprocess's error pipe). While this lock is
    held no thread can start an import, so a fork made inside sees none half-done. Yields
    the imports still in flight after ``timeout_s`` (empty unless it gave up waiting).
    """
    import _imp

    deadline = time.monotonic() + timeout_s
    while True:
        _imp.acquire_lock()
        busy = imports_in_flight()
        if not busy or time.monotonic() >= deadline:
            break
        _imp.release_lock()
        time.sleep(0.005)
    _holding_import_lock[0] = True
    try:
        yield busy
    finally:
        _holding_import_lock[0] = False
        _imp.release_lock()


def warn_busy_fork(name: str, busy: list[str]) -> None:
    """``quiet_imports`` gave up waiting: the worker may hang on one of these modules, and a
    person reading the log of a stuck batch must be able to tell why."""
    logging.getLogger(__name__).warning(
        "%s was forked while other threads were still importing %s: if it hangs, that is why",
        name,
        ", ".join(busy),
    )


# A child forked inside ``quiet_imports`` inherits the held import lock, owned by its main
# thread: it lets go at once, or its other threads could never import anything.
_holding_import_lock = [False]


def _release_inherited_import_lock() -> None:
    if _holding_import_lock[0]:
        import _imp

        _holding_import_lock[0] = False
        _imp.release_lock()


os.register_at_fork(after_in_child=_release_inherited_import_lock)
