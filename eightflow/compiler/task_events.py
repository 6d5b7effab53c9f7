"""Two task-run events per document instead of three: no event for the instant ``Pending``.

Prefect's client-side task engine sends the server one event per state a task run enters:
``Pending`` when the run is created, ``Running`` when it starts, then its final state. The
server parses each event three times (the event persister, the task-run recorder, the
automations' triggers) and writes it with its related resources: on a 2-core machine that
was most of the server's CPU during a batch, a core the batch's own processes then lacked.

A batch's document task starts running the moment it is created (its inputs are plain
values, with no upstream futures to wait for), so its ``Pending`` lasts microseconds and
nothing ever sees it. For the tasks registered here that event is not sent; the
``Running`` event that follows carries the whole task run (name, parameters, times), so
the server records the same task run, with its run count, start and end times and final
state, and the UI shows it as before (its state history starts at ``Running``). A task
run that waits in ``Pending`` for another reason (an upstream that failed: ``NotReady``)
still reports it, and every later state is sent as Prefect sends it.

The ``Running`` event then follows no earlier event (Prefect links each event to the
previous one so the server orders them): it is the first the server hears of the run.
"""

from __future__ import annotations

import threading
from typing import Any

_TASK_KEYS: set[str] = set()
_installed = False
_lock = threading.Lock()


def skip_instant_pending(task: Any) -> Any:
    """Send no ``Pending`` event for runs of ``task`` (a Prefect task); returns it."""
    _TASK_KEYS.add(task.task_key)
    _install()
    return task


def is_instant_pending(task_run: Any, initial_state: Any, validated_state: Any) -> bool:
    """Whether this state change is a registered task run's creation in plain ``Pending``."""
    return (
        initial_state is None
        and validated_state.is_pending()
        and validated_state.name == "Pending"
        and getattr(task_run, "task_key", None) in _TASK_KEYS
    )


def _install() -> None:
    """Wrap the task engine's event function once (the engine looks it up at each call)."""
    global _installed
    with _lock:
        if _installed:
            return
        import prefect.task_engine as engine

        original = engine.emit_task_run_state_change_event

        def emit(
            task_run: Any, initial_state: Any, validated_state: Any, follows: Any = None
        ) -> Any:
            if is_instant_pending(task_run, initial_state, validated_state):
                return None  # the engine's next event then follows none
            return original(
                task_run=task_run,
                initial_state=initial_state,
                validated_state=validated_state,
                follows=follows,
            )

        engine.emit_task_run_state_change_event = emit
        _installed = True
