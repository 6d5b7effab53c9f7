"""The seed's observation API: WorkflowMonitor, MetricsCollector and WorkflowTracer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eightflow import (
    Context,
    MetricsCollector,
    Step,
    StepRecord,
    StepResult,
    Workflow,
    WorkflowDefinition,
    WorkflowError,
    WorkflowFailed,
    WorkflowMonitor,
    WorkflowTracer,
)
from eightflow.observe.metrics import RunSample
from eightflow.observe.stats import percentile
from eightflow.observe.tracer import Trace


class Echo(Workflow):
    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(
            name="monitor_echo",
            steps=[
                Step(name="read", handler=self.read),
                Step(name="shout", handler=self.shout, depends_on=["read"]),
            ],
        )

    async def read(self, context: Context) -> StepResult:
        return StepResult(text=context.document)

    def shout(self, context: Context) -> StepResult:
        return StepResult(loud=context.text.upper())


class Broken(Echo):
    def shout(self, context: Context) -> StepResult:
        raise ZeroDivisionError("nope")


@pytest.mark.prefect
async def test_observe_workflow_returns_the_result_and_counts_a_success() -> None:
    monitor = WorkflowMonitor()
    result = await monitor.observe_workflow(Echo(document="hi"))
    assert result.ok and result.outputs["loud"] == "HI"
    metrics = monitor.metrics
    assert metrics.runs == 1 and metrics.success_rate == 1.0
    assert metrics.failure_reasons() == {}
    summary = metrics.summary()
    assert summary["runs"] == 1 and summary["cost_usd"] == 0.0
    assert set(summary["steps"]) == {"read", "shout"}
    [trace] = monitor.tracer.traces
    assert trace.workflow == "monitor_echo" and trace.result is result
    assert [row["step"] for row in trace.rows] == ["read", "shout"]
    assert trace.duration_ms is not None and trace.duration_ms >= 0 and trace.error is None


@pytest.mark.prefect
async def test_observe_workflow_passes_inputs() -> None:
    monitor = WorkflowMonitor()
    result = await monitor.observe_workflow(Echo(), document="given at observe")
    assert result.outputs["loud"] == "GIVEN AT OBSERVE"


@pytest.mark.prefect
async def test_observe_workflow_reraises_and_records_the_failure() -> None:
    monitor = WorkflowMonitor()
    with pytest.raises(WorkflowFailed) as info:
        await monitor.observe_workflow(Broken(document="hi"))
    assert isinstance(info.value, WorkflowError)
    assert info.value.result is not None and info.value.result.status == "failed"
    metrics = monitor.metrics
    assert metrics.runs == 1 and metrics.success_rate == 0.0
    assert metrics.failure_reasons() == {"ZeroDivisionError": 1}
    [sample] = metrics.samples
    assert sample.ok is False and sample.status == "failed"
    assert {row["step"]: row["status"] for row in sample.steps} == {
        "read": "completed",
        "shout": "failed",
    }
    [trace] = monitor.tracer.traces
    assert trace.error and "nope" in trace.error
    assert trace.result is info.value.result


@pytest.mark.prefect
async def test_monitor_accumulates_over_runs() -> None:
    monitor = WorkflowMonitor()
    await monitor.observe_workflow(Echo(document="a"))
    with pytest.raises(WorkflowFailed):
        await monitor.observe_workflow(Broken(document="b"))
    await monitor.observe_workflow(Echo(document="c"))
    assert monitor.metrics.runs == 3
    assert monitor.metrics.success_rate == pytest.approx(2 / 3)
    assert monitor.metrics.failure_reasons() == {"ZeroDivisionError": 1}
    assert len(monitor.tracer.traces) == 3


@pytest.mark.prefect
async def test_tracer_sinks_receive_finished_traces() -> None:
    seen: list[Trace] = []
    monitor = WorkflowMonitor(tracer=WorkflowTracer(sinks=[seen.append]))
    await monitor.observe_workflow(Echo(document="x"))
    assert len(seen) == 1 and seen[0].finished is not None and len(seen[0].rows) == 2


# -- metrics on hand-made values -----------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([7.0], 99, 7.0),
        ([1, 2, 3, 4], 50, 2.5),
        ([4, 1, 3, 2], 50, 2.5),  # order does not matter
        ([10, 20, 30, 40, 50], 0, 10),
        ([10, 20, 30, 40, 50], 100, 50),
        ([10, 20, 30, 40, 50], 95, 48),
        (list(range(1, 101)), 99, 99.01),
        (list(range(1, 101)), 50, 50.5),
    ],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == (None if expected is None else pytest.approx(expected))


def _sample(ok: bool, durations: dict[str, float], **kw: Any) -> RunSample:
    steps = [
        {"step": name, "status": "completed" if ok else "failed", "duration_ms": ms}
        for name, ms in durations.items()
    ]
    return RunSample(
        workflow="w",
        version="v",
        ok=ok,
        status="completed" if ok else "failed",
        error_type=kw.get("error_type"),
        cost_usd=kw.get("cost", 0.01),
        tokens=kw.get("tokens", 10),
        duration_ms=sum(durations.values()),
        steps=steps,
    )


def test_metrics_percentiles_on_hand_made_samples() -> None:
    metrics = MetricsCollector()
    for ms in range(1, 101):
        metrics.samples.append(_sample(True, {"fast": float(ms), "slow": 10.0 * ms}))
    metrics.samples.append(_sample(False, {"fast": 5000.0}, error_type="ModelTemporaryError"))
    latency = metrics.step_latency()
    assert latency["fast"] == {
        "p50_ms": 50.5,
        "p95_ms": pytest.approx(95.05),
        "p99_ms": pytest.approx(99.01),
        "n": 100,
    }
    assert latency["slow"]["p50_ms"] == pytest.approx(505.0) and latency["slow"]["n"] == 100
    summary = metrics.summary()
    assert summary["runs"] == 101
    assert summary["success_rate"] == pytest.approx(100 / 101)
    assert summary["failures"] == {"ModelTemporaryError": 1}
    assert summary["cost_usd"] == pytest.approx(1.01)
    assert summary["tokens"] == 1010


def test_one_unpriced_run_makes_the_total_unknown() -> None:
    metrics = MetricsCollector()
    metrics.samples += [_sample(True, {"a": 1.0}, cost=0.5), _sample(True, {"a": 1.0}, cost=None)]
    assert metrics.summary()["cost_usd"] is None


def test_empty_metrics() -> None:
    metrics = MetricsCollector()
    assert metrics.runs == 0 and metrics.success_rate is None
    assert metrics.summary() == {
        "runs": 0,
        "success_rate": None,
        "failures": {},
        "cost_usd": 0,
        "tokens": 0,
        "steps": {},
    }


def test_failure_without_a_result_is_recorded() -> None:
    metrics = MetricsCollector()
    trace = Trace(workflow="w")
    metrics.record_failure(object(), trace, WorkflowError("boom"))
    assert metrics.failure_reasons() == {"WorkflowError": 1}


# -- the tracer ----------------------------------------------------------------------


SEED_KEYS = {"step", "input", "timestamp", "duration", "tokens_used"}


def test_capture_step_from_a_record() -> None:
    started = datetime(2025, 3, 18, 12, 0, tzinfo=UTC)
    record = StepRecord(
        name="summarization",
        status="completed",
        attempts=2,
        started=started,
        duration_ms=123.4,
        tokens_in=100,
        tokens_out=20,
        cost_usd=0.002,
        input="document='text'",
    )
    trace = WorkflowTracer().capture_step(record)
    assert set(trace) >= SEED_KEYS
    assert trace["step"] == "summarization"
    assert trace["input"] == "document='text'"
    assert trace["timestamp"] == started
    assert trace["duration"] == 123.4
    assert trace["tokens_used"] == 120
    assert (trace["cost_usd"], trace["attempts"], trace["outcome"]) == (0.002, 2, "completed")


def test_capture_step_with_a_context_sanitizes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-" + "x1Y2z3" * 7

    class SeedStep:  # the seed passes any object with name, duration and token_usage
        name = "entities"
        duration = 0.5
        token_usage = 42

    trace = WorkflowTracer().capture_step(
        SeedStep(), Context({"document": f"key {key}\n" + "w " * 500})
    )
    assert set(trace) >= SEED_KEYS
    assert (trace["step"], trace["duration"], trace["tokens_used"]) == ("entities", 0.5, 42)
    assert key not in trace["input"] and "[REDACTED]" in trace["input"]
    assert len(trace["input"]) < 400
    assert isinstance(trace["timestamp"], datetime)


@pytest.mark.prefect
async def test_capture_step_on_a_real_run() -> None:
    result = await Echo(document="hello").execute()
    tracer = WorkflowTracer()
    traces = [tracer.capture_step(record) for record in result.steps]
    assert [t["step"] for t in traces] == ["read", "shout"]
    for t, record in zip(traces, result.steps, strict=True):
        assert set(t) >= SEED_KEYS
        assert t["timestamp"] == record.started and t["duration"] == record.duration_ms
        assert t["tokens_used"] == 0 and "hello" in t["input"]


@pytest.mark.prefect
async def test_collector_reports_across_runs_from_the_ledger(home: Path) -> None:
    from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow

    from eightflow import MetricsCollector

    monitor = WorkflowMonitor()
    for text in ("Good news today. Everyone is happy.", "Bad news today. Everyone is sad."):
        await monitor.observe_workflow(DocumentAnalysisWorkflow(document=text))
    report = MetricsCollector().report(workflow="document_analysis")
    (entry,) = report["workflows"]
    assert entry["runs"] == 2 and entry["success_rate"] == 1.0
    assert {s["name"] for s in entry["steps"]} >= {"summarization", "entities"}
    assert monitor.metrics.runs == 2
