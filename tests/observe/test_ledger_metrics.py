"""``ledger_report`` and ``cost_per_day`` on a ledger built by hand, with known numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eightflow.observe.ledger_metrics import (
    cost_per_day,
    ledger_report,
    parse_duration,
    sum_cost,
)
from eightflow.observe.stats import percentile
from eightflow.runtime.records import (
    ModelCall,
    StepRecord,
    TokenUsage,
    WorkflowResult,
    total_cost,
)
from eightflow.store.ledger import Ledger

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)

# (name, status, duration_ms, model, prompt "id@vN", cost, tokens in, tokens out, cache hit)
StepSpec = tuple[str, str, float | None, str | None, str | None, float | None, int, int, bool]


def _step(spec: StepSpec, started: datetime) -> StepRecord:
    name, status, duration, model, prompt, cost, t_in, t_out, hit = spec
    record = StepRecord(name=name, status=status, started=started, duration_ms=duration)  # type: ignore[arg-type]
    if model is not None:
        prompt_id, _, version = (prompt or "").partition("@v")
        record.add_call(
            ModelCall(
                model=model,
                provider=model.split("/")[0],
                prompt_id=prompt_id or None,
                prompt_version=int(version) if version else None,
                tokens_in=t_in,
                tokens_out=t_out,
                cost_usd=cost,
                latency_ms=duration or 0.0,
                started=started,
                cache_hit=hit,
                error="boom" if status == "failed" else None,
                error_type="ModelPermanentError" if status == "failed" else None,
            )
        )
    return record


def record(
    ledger: Ledger,
    run_id: str,
    *,
    workflow: str = "alpha",
    version: str = "v1",
    status: str = "completed",
    ago: timedelta,
    steps: list[StepSpec],
    document_id: str | None = None,
    error_type: str | None = None,
) -> WorkflowResult:
    started = NOW - ago
    records = [_step(spec, started) for spec in steps]
    duration = sum(r.duration_ms or 0.0 for r in records)
    result = WorkflowResult(
        run_id=run_id,
        workflow=workflow,
        version=version,
        status=status,  # type: ignore[arg-type]
        steps=records,
        cost_usd=total_cost(records),
        tokens=TokenUsage(
            input=sum(r.tokens_in for r in records), output=sum(r.tokens_out for r in records)
        ),
        model_calls=sum(len(r.calls) for r in records),
        started=started,
        finished=started + timedelta(milliseconds=duration),
        duration_ms=duration,
        error="failed" if error_type else None,
        error_type=error_type,
    )
    ledger.record_run(result, document_id=document_id)
    return result


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    """Five runs of ``alpha`` over two versions, two models and three prompts; one of
    ``beta`` with an unpriced call."""
    db = Ledger(tmp_path / "ledger.sqlite")
    h = timedelta(hours=1)
    record(
        db,
        "r1",
        ago=1 * h,
        document_id="a.txt",
        steps=[
            ("extract", "completed", 100.0, "m1/x", "p@v1", 0.01, 10, 5, False),
            ("write", "completed", 200.0, "m1/x", "q@v1", 0.02, 20, 10, False),
        ],
    )
    record(
        db,
        "r2",
        ago=2 * h,
        document_id="b.txt",
        steps=[
            ("extract", "completed", 300.0, "m2/y", "p@v1", 0.0, 10, 5, True),
            ("write", "completed", 400.0, "m1/x", "q@v1", 0.02, 20, 10, False),
        ],
    )
    record(
        db,
        "r3",
        version="v2",
        status="failed",
        error_type="ModelPermanentError",
        ago=3 * h,
        document_id="c.txt",
        steps=[
            ("extract", "failed", 50.0, "m2/y", "p@v2", 0.0, 0, 0, False),
            ("write", "not_run", None, None, None, None, 0, 0, False),
        ],
    )
    record(
        db,
        "r4",
        version="v2",
        status="criteria_failed",
        error_type="CriteriaFailed",
        ago=72 * h,
        steps=[
            ("extract", "completed", 500.0, "m1/x", "p@v2", 0.01, 10, 5, False),
            ("write", "completed", 700.0, "m1/x", "q@v1", 0.03, 20, 10, False),
        ],
    )
    record(
        db,
        "r5",
        version="v2",
        ago=0.5 * h,
        document_id="d.txt",
        steps=[
            ("extract", "completed", 900.0, "m2/y", "p@v2", 0.005, 10, 5, False),
            ("write", "completed", 1000.0, "m1/x", "q@v1", 0.04, 20, 10, False),
        ],
    )
    record(
        db,
        "b1",
        workflow="beta",
        ago=5 * h,
        document_id="e.txt",
        steps=[
            ("s1", "completed", 10.0, "m1/x", "p@v1", 0.01, 1, 1, False),
            ("s2", "completed", 20.0, "hosted/unpriced", "p@v1", None, 1, 1, False),
        ],
    )
    return db


def _wf(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in report["workflows"] if w["name"] == name)


def _step_of(wf: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in wf["steps"] if s["name"] == name)


def test_report_has_exactly_the_documented_keys(ledger: Ledger) -> None:
    report = ledger_report(ledger, now=NOW)
    assert set(report) == {"workflows", "since"}
    assert report["since"] is None
    assert [w["name"] for w in report["workflows"]] == ["alpha", "beta"]
    assert set(report["workflows"][0]) == {
        "name",
        "runs",
        "documents",
        "success_rate",
        "failure_reasons",
        "cost_usd",
        "cost_per_run_usd",
        "cost_per_document_usd",
        "cost_per_successful_document_usd",
        "cache_hit_rate",
        "grounded_rate",
        "tokens_in",
        "tokens_out",
        "steps",
        "groups",
    }
    assert set(report["workflows"][0]["steps"][0]) == {
        "name",
        "runs",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "failures",
    }


def test_runs_success_failures_and_costs(ledger: Ledger) -> None:
    alpha = _wf(ledger_report(ledger, "alpha", now=NOW), "alpha")
    assert alpha["runs"] == 5
    assert alpha["documents"] == 4  # r4 has no document
    assert alpha["success_rate"] == pytest.approx(3 / 5)
    assert alpha["failure_reasons"] == {"ModelPermanentError": 1, "CriteriaFailed": 1}
    total = 0.03 + 0.02 + 0.0 + 0.04 + 0.045
    documents = 0.03 + 0.02 + 0.0 + 0.045  # r1, r2, r3, r5
    assert alpha["cost_usd"] == pytest.approx(total)
    assert alpha["cost_per_run_usd"] == pytest.approx(total / 5)
    assert alpha["cost_per_document_usd"] == pytest.approx(documents / 4)
    # The failed document's spend is charged to the three that succeeded.
    assert alpha["cost_per_successful_document_usd"] == pytest.approx(documents / 3)
    assert alpha["cache_hit_rate"] == pytest.approx(1 / 9)  # 9 calls, r2's extract hit
    assert alpha["tokens_in"] == 4 * 30 + 0
    assert alpha["tokens_out"] == 4 * 15
    assert alpha["groups"] == []


def test_step_percentiles_are_exact(ledger: Ledger) -> None:
    alpha = _wf(ledger_report(ledger, "alpha", now=NOW), "alpha")
    assert [s["name"] for s in alpha["steps"]] == ["extract", "write"]  # the workflow's order
    extract, write = _step_of(alpha, "extract"), _step_of(alpha, "write")
    completed_extract = [100.0, 300.0, 500.0, 900.0]  # r3's failed 50 ms is not a latency
    completed_write = [200.0, 400.0, 700.0, 1000.0]
    for row, values in ((extract, completed_extract), (write, completed_write)):
        assert row["p50_ms"] == percentile(values, 50)
        assert row["p95_ms"] == percentile(values, 95)
        assert row["p99_ms"] == percentile(values, 99)
    assert extract["p50_ms"] == 400.0
    assert extract["p95_ms"] == pytest.approx(840.0)
    assert extract["p99_ms"] == pytest.approx(888.0)
    assert (extract["runs"], extract["failures"]) == (5, 1)
    assert (write["runs"], write["failures"]) == (5, 0)  # r3's write did not run
    assert extract["cost_usd"] == pytest.approx(0.025)
    assert write["cost_usd"] == pytest.approx(0.11)
    assert (extract["tokens_in"], extract["tokens_out"]) == (40, 20)


def test_unknown_price_makes_every_sum_it_touches_none(ledger: Ledger) -> None:
    report = ledger_report(ledger, now=NOW)
    beta = _wf(report, "beta")
    assert beta["cost_usd"] is None
    assert beta["cost_per_run_usd"] is None
    assert beta["cost_per_document_usd"] is None
    assert beta["cost_per_successful_document_usd"] is None
    assert _step_of(beta, "s1")["cost_usd"] == pytest.approx(0.01)
    assert _step_of(beta, "s2")["cost_usd"] is None
    # The other workflow is unaffected: costs are summed per workflow.
    assert _wf(report, "alpha")["cost_usd"] == pytest.approx(0.135)
    model_groups = {g["key"]: g for g in _wf(ledger_report(ledger, by="model"), "beta")["groups"]}
    assert model_groups["hosted/unpriced"]["cost_usd"] is None
    assert model_groups["m1/x"]["cost_usd"] == pytest.approx(0.01)


def test_sum_cost() -> None:
    assert sum_cost([]) == 0.0
    assert sum_cost([0.5, 0.25]) == 0.75
    assert sum_cost([0.5, None, 0.25]) is None


def test_since_keeps_only_recent_runs(ledger: Ledger) -> None:
    report = ledger_report(ledger, "alpha", since=timedelta(hours=2, minutes=30), now=NOW)
    assert report["since"] == (NOW - timedelta(hours=2, minutes=30)).isoformat()
    alpha = _wf(report, "alpha")
    assert alpha["runs"] == 3  # r5, r1, r2; not r3 (3 h) nor r4 (3 days)
    assert alpha["success_rate"] == 1.0
    assert alpha["failure_reasons"] == {}
    assert _step_of(alpha, "extract")["p50_ms"] == percentile([100.0, 300.0, 900.0], 50)
    assert alpha["cache_hit_rate"] == pytest.approx(1 / 6)
    empty = ledger_report(ledger, since=timedelta(minutes=10), now=NOW)
    assert empty["workflows"] == []


def test_workflow_filter(ledger: Ledger) -> None:
    assert [w["name"] for w in ledger_report(ledger, "beta")["workflows"]] == ["beta"]
    assert ledger_report(ledger, "nope")["workflows"] == []


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        # key: (runs, steps, success_rate, cost_usd)
        ("step", {}),
        (
            "model",
            {
                "m1/x": (4, 6, 1.0, 0.01 + 0.02 + 0.02 + 0.01 + 0.03 + 0.04),
                "m2/y": (3, 3, 2 / 3, 0.005),
            },
        ),
        (
            "prompt",
            {
                "p@v1": (2, 2, 1.0, 0.01),
                "p@v2": (3, 3, 2 / 3, 0.015),
                "q@v1": (4, 4, 1.0, 0.11),
            },
        ),
        (
            "version",
            {
                "v1": (2, 4, 1.0, 0.05),
                "v2": (3, 6, 1 / 3, 0.085),
            },
        ),
    ],
)
def test_split_by(ledger: Ledger, by: str, expected: dict[str, tuple[Any, ...]]) -> None:
    alpha = _wf(ledger_report(ledger, "alpha", by=by, now=NOW), "alpha")  # type: ignore[arg-type]
    groups = {g["key"]: g for g in alpha["groups"]}
    assert set(groups) == set(expected)
    for key, (runs, steps, success, cost) in expected.items():
        group = groups[key]
        assert (group["runs"], group["steps"]) == (runs, steps), key
        assert group["success_rate"] == pytest.approx(success), key
        assert group["cost_usd"] == pytest.approx(cost), key
        assert group["unit"] == ("run" if by == "version" else "step")
    if by == "step":
        assert [s["name"] for s in alpha["steps"]] == ["extract", "write"]
    if by == "model":
        m2 = groups["m2/y"]
        assert m2["p95_ms"] == percentile([300.0, 900.0], 95)  # r3's failed step excluded
        assert (m2["calls"], m2["cache_hit_rate"]) == (3, pytest.approx(1 / 3))
    if by == "version":
        v2 = groups["v2"]  # latency of completed runs: r5 only (r3 failed, r4 criteria)
        assert v2["p50_ms"] == 1900.0
        assert v2["failures"] == 2


def test_unknown_dimension_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="by must be one of"):
        ledger_report(ledger, by="team")  # type: ignore[arg-type]


def test_cost_per_day_fills_gaps_and_keeps_unknown_days_none(ledger: Ledger) -> None:
    alpha = cost_per_day(ledger, "alpha", now=NOW)
    assert [d for d, _ in alpha] == [date(2024, 5, d) for d in (7, 8, 9, 10)]
    costs = [c for _, c in alpha]
    assert costs[0] == pytest.approx(0.04)
    assert costs[1:3] == [0.0, 0.0]
    assert costs[3] == pytest.approx(0.095)
    assert cost_per_day(ledger, "beta", now=NOW) == [(date(2024, 5, 10), None)]
    recent = cost_per_day(ledger, "alpha", since=timedelta(days=1), now=NOW)
    assert [d for d, _ in recent] == [date(2024, 5, 10)]
    assert cost_per_day(ledger, "nope") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("90s", timedelta(seconds=90)),
        (" 1.5H ", timedelta(hours=1.5)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d7", "7y", "0d", "-1h"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_plots_are_deterministic_pngs(ledger: Ledger, tmp_path: Path) -> None:
    from eightflow.observe.plots import plot_cost_per_day, plot_step_latency

    report = ledger_report(ledger, now=NOW)  # two workflows: steps are labelled wf/step
    days = cost_per_day(ledger, now=NOW)  # includes a day with an unpriced run
    first = [
        plot_cost_per_day(days, tmp_path / "a" / "cost.png").read_bytes(),
        plot_step_latency(report, tmp_path / "a" / "latency.png").read_bytes(),
    ]
    second = [
        plot_cost_per_day(days, tmp_path / "b" / "cost.png").read_bytes(),
        plot_step_latency(report, tmp_path / "b" / "latency.png").read_bytes(),
    ]
    assert first == second
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in first)
    assert all(b"matplotlib" not in png for png in first)  # no software tag
