"""One task-run event per fast document instead of three: its final state, nothing before.

Prefect's client-side task engine sends the server one event per state a task run enters:
``Pending`` when the run is created, ``Running`` when it starts, then its final state. The
server parses each event several times (the event persister, the task-run recorder, the
automations' triggers) and writes it with its related resources: on a 2-core machine that
was most of the server's CPU during a batch, a core the batch's own processes then lacked.

For the tasks registered here (a batch's document task):

- **No ``Pending``.** The task starts running the moment it is created (its inputs are
  plain values, with no upstream futures to wait for), so its ``Pending`` lasts
  microseconds and nothing ever sees it. A run that waits in ``Pending`` for another reason
  (an upstream that failed: ``NotReady``) still reports it.
- **``Running`` is held for ``running_after_s``.** A document that reaches its final state
  sooner sends that one event: it carries the whole task run (name, parameters, run count,
  start and end times, final state), so the server records the same task run and the UI
  shows it with its state and times; its state history holds only the final state. A
  document still running after ``running_after_s`` sends its ``Running`` event then (from
  the task's own context, so with the same related resources), and the UI shows it as
  running from that moment. A run that leaves ``Running`` for a state that is not final
  (a retry's ``AwaitingRetry``) sends the held ``Running`` first: retries keep their whole
  history. ``running_after_s`` = 0 sends ``Running`` at once, as Prefect does.

Trade-offs, stated where users read them (docs/benchmarks.md): a document appears in the UI
up to ``running_after_s`` late (when it ends, if sooner); an automation that triggers on a
task run's ``Running`` event does not see the fast ones; a process killed in the middle of a
fast document leaves no task run for it (with Prefect's events it stayed ``Running``).

An event the server never heard of is followed by none: the engine links each event to the
one it sent before, and for a held or skipped event that is ``None``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

# task key -> seconds a run's Running event is held (0: sent at once)
_TASK_KEYS: dict[str, float] = {}
# task-run id -> the held Running event: its timer, and the state change it reports
_held: dict[Any, tuple[asyncio.TimerHandle, Any, Any]] = {}
# A held Running sent by its timer: the engine never saw it, so its next event follows it here.
_sent_late: dict[Any, Any] = {}
_installed = False
_lock = threading.Lock()


def send_fewer_events(task: Any, running_after_s: float = 0.0) -> Any:
    """Send no ``Pending`` event for runs of ``task`` (a Prefect task) and hold each run's
    first ``Running`` event for ``running_after_s`` seconds (see the module); returns it."""
    _TASK_KEYS[task.task_key] = max(0.0, float(running_after_s))
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


def running_hold_s(task_run: Any, initial_state: Any, validated_state: Any) -> float:
    """How long to hold this state change's event: > 0 only for a registered run's first
    ``Running`` (straight from its creation or ``Pending``), else 0 (send it now)."""
    hold = _TASK_KEYS.get(getattr(task_run, "task_key", None) or "", 0.0)
    if hold <= 0 or not validated_state.is_running():
        return 0.0
    if initial_state is not None and not initial_state.is_pending():
        return 0.0  # e.g. AwaitingRetry -> Running: a retry keeps its whole history
    return hold


def held_count() -> int:
    """Running events held now (for tests and diagnostics)."""
    return len(_held)


def _install() -> None:
    """Wrap the task engine's event function once (the engine looks it up at each call)."""
    global _installed
    with _lock:
        if _installed:
            return
        import prefect.task_engine as engine

        original = engine.emit_task_run_state_change_event

        def send(task_run: Any, initial_state: Any, validated_state: Any, follows: Any) -> Any:
            return original(
                task_run=task_run,
                initial_state=initial_state,
                validated_state=validated_state,
                follows=follows,
            )

        def send_held(task_run: Any, initial_state: Any, validated_state: Any) -> None:
            # Still running after the hold: the UI shows it as running from now on.
            if _held.pop(task_run.id, None) is not None:
                event = send(task_run, initial_state, validated_state, None)
                if event is not None:
                    _sent_late[task_run.id] = event

        def emit(
            task_run: Any, initial_state: Any, validated_state: Any, follows: Any = None
        ) -> Any:
            if is_instant_pending(task_run, initial_state, validated_state):
                return None  # the engine's next event then follows none
            run_id = getattr(task_run, "id", None)
            follows = _sent_late.pop(run_id, None) or follows
            held = _held.pop(run_id, None)
            if held is not None:  # its Running event was never sent
                timer, held_initial, held_running = held
                timer.cancel()
                if not validated_state.is_final():  # e.g. a retry: its history first
                    follows = send(task_run, held_initial, held_running, follows) or follows
                return send(task_run, initial_state, validated_state, follows)
            hold = running_hold_s(task_run, initial_state, validated_state)
            if hold > 0:
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:
                    loop = None  # a sync task in a thread: no timer to hold it with
                if loop is not None:
                    # The callback runs in a copy of this context: the task run's own.
                    timer = loop.call_later(
                        hold, send_held, task_run, initial_state, validated_state
                    )
                    _held[task_run.id] = (timer, initial_state, validated_state)
                    return None
            return send(task_run, initial_state, validated_state, follows)

        engine.emit_task_run_state_change_event = emit
        _installed = True
