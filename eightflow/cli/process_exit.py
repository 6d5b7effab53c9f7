"""How the ``eightflow`` command ends its process: everything flushed, no teardown.

Once Prefect and litellm are imported, Python's ordinary exit spends about 1.5 s of CPU
here tearing the interpreter down (deallocating module dictionaries, pydantic models,
litellm's price map) after the command's work is done (``python -c "import ..."``: 5.6 s
with the ordinary exit, 4.0 s without). A user waits for it after every ``eightflow
analyze``.

:func:`finish` runs, in order, what an ordinary exit runs that matters to anyone outside the
process, then ends it with ``os._exit``:

1. ``threading._shutdown()``: non-daemon threads are joined and threading's exit hooks
   run; Prefect drains its event and log queues to the server there.
2. ``atexit`` handlers (Prefect's and litellm's own).
3. ``logging.shutdown()`` and the standard streams flushed.

What is skipped is the interpreter's finalisation: objects freed one by one and garbage
collected, ``__del__`` of whatever is still alive at exit. eightflow writes its files with
explicit closes (results, ledger, trace: atomic writes and committed transactions), so
nothing of its own waits on a finaliser. ``EIGHTFLOW_FAST_EXIT=0`` restores the ordinary
exit; so does running under the test runner (only the console script calls :func:`main`).
Worker processes of a batch are forked and already end with ``os._exit``
(``multiprocessing``).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
from typing import NoReturn


def exit_code(exc: SystemExit) -> int:
    """The status ``sys.exit(x)`` would give: None is 0, an int itself, anything else is
    printed to stderr and gives 1 (as the interpreter does)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def finish(code: int) -> NoReturn:
    """End the process with ``code`` once everything it owes the outside is flushed."""
    from eightflow.settings import get_settings

    if not get_settings().fast_exit:
        sys.exit(code)
    try:
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
        run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
        if run_exitfuncs is None:  # an interpreter without it: its ordinary exit
            sys.exit(code)
        run_exitfuncs()
        logging.shutdown()
    finally:
        for stream in (sys.stdout, sys.stderr):
            # closed, or a broken pipe: nothing more to say
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    os._exit(code)


def main() -> NoReturn:
    """The ``eightflow`` console script: the Typer app, then :func:`finish`."""
    from eightflow.cli.main import app

    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exit_code(exc)
    finish(code)
