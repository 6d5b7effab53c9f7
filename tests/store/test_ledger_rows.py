"""Runs committed in groups: one statement per table, the same rows as one run at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eightflow.runtime.records import ModelCall, StepRecord, TokenUsage, WorkflowResult
from eightflow.store.ledger import Ledger


def _run(run_id: str, *, status: str = "completed", cost: float = 0.002) -> WorkflowResult:
    now = datetime.now(UTC)
    calls = [
        ModelCall(model="openai/gpt-4o-mini", provider="openai", cost_usd=cost / 2, started=now,
                  tokens_in=10, tokens_out=5, output_digest=f"{run_id}-{i}")
        for i in range(2)
    ]  # fmt: skip
    steps = [
        StepRecord(name=name, status=status, input=f"{run_id} text", cost_usd=cost, calls=calls)
        for name in ("summarization", "sentiment")
    ]
    return WorkflowResult(
        run_id=run_id, workflow="document_analysis", version="v1", status=status,
        steps=steps, cost_usd=2 * cost, tokens=TokenUsage(input=40, output=20), model_calls=4,
        started=now, finished=now, duration_ms=1.0,
    )  # fmt: skip


def _table(ledger: Ledger, run_id: str) -> dict[str, Any]:
    return {
        "run": {k: v for k, v in (ledger.run(run_id) or {}).items() if k not in ("started",)},
        "steps": ledger.steps(run_id),
        "calls": ledger.calls(run_id),
    }


def test_a_group_writes_what_one_run_at_a_time_writes(tmp_path: Path) -> None:
    one, grouped = Ledger(tmp_path / "one.sqlite"), Ledger(tmp_path / "grouped.sqlite")
    runs = [_run(f"r{i}") for i in range(5)]
    for run in runs:
        one.record_run(run, batch_id="b", document_id=run.run_id)
    grouped.submit_runs([(run, {"batch_id": "b", "document_id": run.run_id}) for run in runs])
    grouped.flush()
    for run in runs:
        assert _table(grouped, run.run_id) == _table(one, run.run_id)
    one.close()
    grouped.close()


def test_a_run_recorded_twice_in_a_group_keeps_its_later_version(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record_run(_run("r", status="failed"))
    ledger.submit_runs([(_run("r", status="failed"), {}), (_run("r", cost=0.5), {})]).result()
    assert ledger.run("r")["status"] == "completed"  # type: ignore[index]
    steps = ledger.steps("r")
    assert sorted(s["name"] for s in steps) == ["sentiment", "summarization"]
    assert {s["cost_usd"] for s in steps} == {0.5} and len(ledger.calls("r")) == 4
    ledger.close()


@pytest.mark.parametrize("served_from_cache", [False, True])
def test_a_run_served_from_cache_costs_nothing_and_every_call_is_a_hit(
    tmp_path: Path, served_from_cache: bool
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record_run(_run("r"), served_from_cache=served_from_cache)
    steps, calls = ledger.steps("r"), ledger.calls("r")
    if served_from_cache:
        assert {s["cost_usd"] for s in steps} == {0.0}
        assert {(c["cost_usd"], c["cache_hit"]) for c in calls} == {(0.0, 1)}
    else:
        assert {s["cost_usd"] for s in steps} == {0.002}
        assert {(c["cost_usd"], c["cache_hit"]) for c in calls} == {(0.001, 0)}
    # What was spent and answered the first time stays readable: tokens and digests.
    assert [c["output_digest"] for c in calls] == ["r-0", "r-1", "r-0", "r-1"]
    assert {c["tokens_in"] for c in calls} == {10}
    ledger.close()


KEY = "sk-" + "Nq4" * 12


@pytest.mark.parametrize("full", [False, True])
def test_answers_notes_and_planning_errors_are_kept_sanitized(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full: bool
) -> None:
    if full:
        monkeypatch.setenv("EIGHTFLOW_LEDGER_FULL_INPUTS", "1")
    run = _run("r")
    long_answer = '{"summary": "' + "harbour " * 100 + KEY + '"}'
    run.steps[0].calls[0].response_text = long_answer
    run.steps[0].calls[1].response_text = f'{{"summary": "short {KEY}"}}'
    run.steps[0].notes = {"batch_api": [{"line_error": f"401 bad key {KEY}", "wave": 1}]}
    run.planning = [{"round": 1, "error": f"planner quoted {KEY}", "plan": [], "done": True}]
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record_run(run)
    dump = "\n".join(ledger._db.iterdump())
    assert KEY not in dump and "[REDACTED]" in dump
    responses = [c["response"] for c in ledger.calls("r") if c["response"]]
    long_kept = next(r for r in responses if "harbour" in r)
    assert ('"__excerpt__"' in long_kept) is not full  # whole only when asked for
    assert ("harbour " * 100) in long_kept or not full
    ledger.close()
