"""A registered task sends no instant ``Pending``, and a fast run only its final state."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from prefect.states import AwaitingRetry, Completed, Failed, Pending, Running

from eightflow.compiler.task_events import (
    held_count,
    is_instant_pending,
    running_hold_s,
    send_fewer_events,
)


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
    monkeypatch.setattr("eightflow.compiler.task_events._TASK_KEYS", {"registered": 5.0})
    assert is_instant_pending(_run(key), initial, validated) is skipped


@pytest.mark.parametrize(
    ("key", "initial", "validated", "hold"),
    [
        ("held", Pending(), Running(), 5.0),  # the first Running, straight from creation
        ("held", None, Running(), 5.0),  # its Pending was never sent
        ("held", AwaitingRetry(), Running(), 0.0),  # a retry: its history is sent whole
        ("held", Running(), Completed(), 0.0),  # a final state is never held
        ("held", Running(), Failed(), 0.0),
        ("held", None, Pending(), 0.0),
        ("at-once", Pending(), Running(), 0.0),  # registered with running_after_s=0
        ("other", Pending(), Running(), 0.0),  # not registered: Prefect's events
    ],
)
def test_only_a_registered_runs_first_running_is_held(
    monkeypatch: pytest.MonkeyPatch, key: str, initial: Any, validated: Any, hold: float
) -> None:
    monkeypatch.setattr("eightflow.compiler.task_events._TASK_KEYS", {"held": 5.0, "at-once": 0.0})
    assert running_hold_s(_run(key), initial, validated) == hold


def _record_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    """(task key, event name, follows) of every task-run event the engine sends."""
    from prefect.utilities import engine

    sent: list[tuple[str, str, Any]] = []
    real = engine.emit_event

    def record(**event: Any) -> Any:
        key = event["payload"]["task_run"]["task_key"]
        sent.append((key, event["event"], event["follows"]))
        return real(**event)

    monkeypatch.setattr(engine, "emit_event", record)
    return sent


def _names(sent: list[tuple[str, str, Any]], key: str) -> list[str]:
    return [name.removeprefix("prefect.task-run.") for k, name, _ in sent if k == key]


@pytest.mark.prefect
def test_a_fast_run_sends_one_event_and_prefects_own_tasks_all_three(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect import flow, task

    sent = _record_events(monkeypatch)

    async def quiet_body(document: str) -> str:
        return document

    async def at_once_body(document: str) -> str:
        return document

    async def usual_body(document: str) -> str:
        return document

    make: Any = task  # Prefect's overloads do not type-check a keyword-only name template
    quiet = send_fewer_events(make(quiet_body, task_run_name="q-{document}"), 30.0)
    at_once = send_fewer_events(make(at_once_body, task_run_name="a-{document}"), 0.0)
    usual = make(usual_body, task_run_name="u-{document}")

    @flow
    async def three() -> list[str]:
        return [await quiet(document="a"), await at_once(document="a"), await usual(document="a")]

    assert asyncio.run(three()) == ["a", "a", "a"]
    assert _names(sent, quiet.task_key) == ["Completed"]
    assert _names(sent, at_once.task_key) == ["Running", "Completed"]
    assert _names(sent, usual.task_key) == ["Pending", "Running", "Completed"]
    for key in (quiet.task_key, at_once.task_key):  # none follows an event never sent
        assert next(f for k, _, f in sent if k == key) is None
    assert held_count() == 0


@pytest.mark.prefect
@pytest.mark.parametrize(
    ("hold_s", "sleep_s", "expected"),
    [
        (0.05, 0.5, ["Running", "Completed"]),  # outlasted the hold: Running sent then
        (30.0, 0.0, ["Completed"]),
    ],
)
def test_a_run_that_outlasts_the_hold_reports_running(
    monkeypatch: pytest.MonkeyPatch, hold_s: float, sleep_s: float, expected: list[str]
) -> None:
    from prefect import flow, task

    sent = _record_events(monkeypatch)
    names_seen_while_running: list[list[str]] = []

    async def body(document: str) -> str:
        await asyncio.sleep(sleep_s)
        names_seen_while_running.append(_names(sent, slow.task_key))
        return document

    make: Any = task
    slow = send_fewer_events(make(body, name=f"slow-{hold_s}"), hold_s)

    @flow
    async def one() -> str:
        return str(await slow(document="a"))

    assert asyncio.run(one()) == "a"
    assert _names(sent, slow.task_key) == expected
    assert names_seen_while_running == [expected[:-1]]  # Running was out before the end
    assert held_count() == 0
    # Each event follows the one sent before it for this run (the server orders them by it),
    # including a Running its timer sent, which Prefect's engine never saw.
    follows = [f for k, _, f in sent if k == slow.task_key]
    assert follows[0] is None
    assert [getattr(f, "event", None) for f in follows[1:]] == [
        f"prefect.task-run.{name}" for name in expected[:-1]
    ]


@pytest.mark.prefect
def test_a_retried_run_keeps_its_whole_history(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect import flow, task

    sent = _record_events(monkeypatch)
    tries: list[int] = []

    async def flaky(document: str) -> str:
        tries.append(1)
        if len(tries) == 1:
            raise RuntimeError("first try fails")
        return document

    make: Any = task
    retried = send_fewer_events(make(flaky, retries=1, retry_delay_seconds=0), 30.0)

    @flow
    async def one() -> str:
        return str(await retried(document="a"))

    assert asyncio.run(one()) == "a"
    # Without a delay Prefect retries in a Running state named Retrying.
    assert _names(sent, retried.task_key) == ["Running", "Retrying", "Completed"]
    assert held_count() == 0
    follows = [f for k, _, f in sent if k == retried.task_key]
    assert [getattr(f, "event", None) for f in follows] == [
        None,
        "prefect.task-run.Running",
        "prefect.task-run.Retrying",
    ]
