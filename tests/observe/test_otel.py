"""OpenTelemetry export: off by default; spans with gen_ai attributes when on."""

from __future__ import annotations

from pathlib import Path

import pytest
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eightflow.observe.otel import enabled, export_run

TEXT = (Path(__file__).resolve().parents[2] / "examples" / "sample.md").read_text()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"EIGHTFLOW_OTEL": "1"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "EIGHTFLOW_OTEL": "0"}, False),
    ],
)
def test_enabled_only_when_configured(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "EIGHTFLOW_OTEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert enabled() is expected


@pytest.mark.prefect
async def test_step_spans_carry_gen_ai_attributes(home: Path) -> None:
    result = await DocumentAnalysisWorkflow(document=TEXT).execute()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    count = export_run(result, tracer=provider.get_tracer("test"))
    finished = exporter.get_finished_spans()
    assert count == len(finished) == 1 + 5 + 4  # run, steps, model calls
    spans = {s.name: s for s in finished if not s.name.startswith("chat ")}
    root = spans["workflow document_analysis"]
    step = spans["step sentiment"]
    call = next(
        s
        for s in finished
        if s.name.startswith("chat ") and s.parent and s.parent.span_id == step.context.span_id
    )
    assert step.parent.span_id == root.context.span_id
    assert call.attributes["gen_ai.request.model"] == "local/embedded"
    assert call.attributes["gen_ai.usage.input_tokens"] > 0
    assert step.attributes["eightflow.cost_usd"] == 0.0
    assert step.start_time <= call.start_time <= call.end_time <= step.end_time + 1_000_000


def test_a_batch_worker_sends_its_buffered_spans_before_it_exits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A worker process ends with os._exit, which skips the provider's flush at exit: the
    # worker's exit hooks flush what the batch processor still holds.
    from datetime import UTC, datetime

    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from eightflow.observe import otel
    from eightflow.runtime.records import WorkflowResult
    from eightflow.runtime.worker_exit import run_worker_exit_hooks

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=600_000))
    monkeypatch.setattr(otel, "_PROVIDER", provider)
    now = datetime.now(UTC)
    result = WorkflowResult(
        run_id="r1",
        workflow="w",
        version="v",
        status="completed",
        started=now,
        finished=now,
        duration_ms=0.0,
    )
    assert export_run(result, tracer=provider.get_tracer("test")) == 1
    assert exporter.get_finished_spans() == ()  # still buffered
    assert run_worker_exit_hooks() == []
    assert [s.name for s in exporter.get_finished_spans()] == ["workflow w"]
    provider.shutdown()
