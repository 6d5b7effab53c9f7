"""Keep Python's cyclic garbage collector off the objects that imports create.

Importing Prefect and litellm builds about 440,000 objects (classes, functions, pydantic
schemas) that live until the process ends. While they are being built, the collector's
allocation counters keep triggering full collections that walk the whole, growing heap and
find almost nothing: 7 full collections in one ``eightflow run``, about 1.1 s of its CPU on
this 2-core machine. At exit, the interpreter's own collections over the same heap took
another 1.2-2 s.

:func:`quiet_gc` pauses the collector around a block of heavy imports and then freezes
what survived (``gc.freeze()``: moved to a generation the collector never scans), so later
collections look only at objects made afterwards. :func:`freeze_at_exit` does the same for
the interpreter's final collections in a short-lived command. Reference counting still frees
everything that is not in a cycle; only cycles among frozen objects are never collected.
Objects made by imports are never garbage anyway, but a freeze also keeps whatever cyclic
garbage is pending at that moment: use it around first imports, not around every call.

Leaf module: it imports nothing of eightflow.
"""

from __future__ import annotations

import atexit
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # quiet_gc blocks open, in any thread
_resume = False  # whether the collector was on when the outermost block began


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Pause the cyclic collector for the block; freeze what survived it.

    Safe to nest and to use from several threads at once: the collector comes back on
    (if it was on) when the last open block ends, and only then.
    """
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.freeze()
                if _resume:
                    gc.enable()


_exit_registered = False


def freeze_at_exit() -> None:
    """Skip the interpreter's collections over the whole heap when this process exits.

    ``atexit`` runs handlers last-registered-first, so one registered early runs after
    the others (Prefect's and logging's flushes): nothing is skipped but the collections.
    """
    global _exit_registered
    if not _exit_registered:
        _exit_registered = True
        atexit.register(gc.freeze)
