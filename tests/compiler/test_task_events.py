"""No event for a registered task's instant ``Pending``; every other state as Prefect sends it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from prefect.states import Completed, Pending, Running

from eightflow.compiler.task_events import is_instant_pending, skip_instant_pending


def _run(key: str) -> Any:
    return SimpleNamespace(task_key=key)


@pytest.mark.parametrize(
    ("key", "initial", "validated", "skipped"),
    [
        ("registered", None, Pending(), True),
        ("registered", None, Pending(name="NotReady"), False),  # waiting on an upstream
        ("registered", Pending(), Running(), False),
        ("registered", Running(), Completed(), False),
        ("registered", None, Running(), False),
        ("other", None, Pending(), False),
    ],
)
def test_only_a_registered_runs_creation_in_plain_pending_is_skipped(
    monkeypatch: pytest.MonkeyPatch, key: str, initial: Any, validated: Any, skipped: bool
) -> None:
    monkeypatch.setattr("eightflow.compiler.task_events._TASK_KEYS", {"registered"})
    assert is_instant_pending(_run(key), initial, validated) is skipped


@pytest.mark.prefect
def test_a_registered_task_sends_running_then_its_final_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect import flow, task
    from prefect.utilities import engine

    sent: list[tuple[str, str, Any]] = []
    real = engine.emit_event

    def record(**event: Any) -> Any:
        key = event["payload"]["task_run"]["task_key"]
        sent.append((key, event["event"], event["follows"]))
        return real(**event)

    monkeypatch.setattr(engine, "emit_event", record)

    async def quiet_body(document: str) -> str:
        return document

    async def usual_body(document: str) -> str:
        return document

    make: Any = task  # Prefect's overloads do not type-check a keyword-only name template
    quiet = skip_instant_pending(make(quiet_body, task_run_name="q-{document}"))
    usual = make(usual_body, task_run_name="u-{document}")

    @flow
    async def both() -> list[str]:
        return [await quiet(document="a"), await usual(document="a")]

    assert asyncio.run(both()) == ["a", "a"]
    keys = {"q": quiet.task_key, "u": usual.task_key}
    names = {name: [e for k, e, _ in sent if k == key] for name, key in keys.items()}
    assert names["q"] == ["prefect.task-run.Running", "prefect.task-run.Completed"]
    assert names["u"] == [
        "prefect.task-run.Pending",
        "prefect.task-run.Running",
        "prefect.task-run.Completed",
    ]
    first_quiet = next(f for k, _, f in sent if k == quiet.task_key)
    assert first_quiet is None  # it follows no event the server never heard of
