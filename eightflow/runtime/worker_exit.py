"""What a batch worker process closes before it exits.

A worker process that started its own process pool (the loader sandbox, for PDF, DOCX and
HTML) must shut that pool down while it is still running normally: left to the
interpreter's exit, the pool's shutdown hung in a forked worker, its processes never
told to stop. The application registers its pools' closers here (the engine never
imports it), and the worker calls them once its documents are done.

Leaf module: it imports nothing of eightflow.
"""

from __future__ import annotations

from collections.abc import Callable

_hooks: list[Callable[[], None]] = []


def at_worker_exit(hook: Callable[[], None]) -> None:
    """Call ``hook`` in each batch worker process when it has finished its documents."""
    if hook not in _hooks:
        _hooks.append(hook)


def run_worker_exit_hooks() -> list[str]:
    """Call every hook; returns what failed, one line each (a hook never stops the rest)."""
    errors = []
    for hook in list(_hooks):
        try:
            hook()
        except Exception as exc:
            errors.append(f"{getattr(hook, '__qualname__', hook)}: {type(exc).__name__}: {exc}")
    return errors
