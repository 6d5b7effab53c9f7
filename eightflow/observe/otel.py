"""Optional OpenTelemetry export of step spans with gen_ai attributes.

Off by default. On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``EIGHTFLOW_OTEL=1``) is set and
the ``otel`` extra is installed. Spans are written after each run from the recorded step
times, one ``workflow`` span with a child per step and a grandchild per model call, carrying
``gen_ai.request.model``, ``gen_ai.usage.input_tokens``/``output_tokens`` and our cost (the
root span: the run's totals). Every run exports, whatever its path (single, batch document,
planner-driven, replay): the pipeline's span sink (:mod:`eightflow.pipeline.sinks`).
If an application already installed a global tracer provider (Prefect uses one when its own
telemetry is on), eightflow uses it rather than replacing it; ``EIGHTFLOW_OTEL=0`` wins over
everything.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from eightflow.runtime.records import WorkflowResult
from eightflow.runtime.worker_exit import at_worker_exit
from eightflow.safety.sanitize import sanitize_text
from eightflow.settings import get_settings

log = logging.getLogger("eightflow.otel")
_PROVIDER: Any = None


def enabled() -> bool:
    """``EIGHTFLOW_OTEL`` if set, else whether ``OTEL_EXPORTER_OTLP_ENDPOINT`` is."""
    return get_settings().otel_enabled


def _tracer() -> Any:
    global _PROVIDER
    from opentelemetry import trace

    current = trace.get_tracer_provider()
    if type(current).__name__ not in {"ProxyTracerProvider", "NoOpTracerProvider"}:
        return current.get_tracer("eightflow")
    if _PROVIDER is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        _PROVIDER = TracerProvider(resource=Resource.create({"service.name": "eightflow"}))
        _PROVIDER.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return _PROVIDER.get_tracer("eightflow")


def flush() -> None:
    """Send the spans still buffered: a batch worker process ends with ``os._exit``, which
    skips the provider's own flush at exit, so it calls this before (a worker exit hook)."""
    provider = _PROVIDER
    if provider is None:
        trace = sys.modules.get("opentelemetry.trace")  # no span was made without it
        if trace is None:
            return
        provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if force_flush is not None:
        force_flush()


at_worker_exit(flush)


def _ns(value: Any) -> int | None:
    return int(value.timestamp() * 1e9) if value is not None else None


def export_run(result: WorkflowResult, tracer: Any = None) -> int:
    """Write the run's spans; returns how many. Never raises into the run."""
    if tracer is None and not enabled():
        return 0
    try:
        tracer = tracer or _tracer()
    except ImportError:
        log.warning("OpenTelemetry export requested but the 'otel' extra is not installed")
        return 0
    from opentelemetry import trace

    count = 0
    root = tracer.start_span(
        f"workflow {result.workflow}",
        start_time=_ns(result.started),
        attributes={
            "eightflow.run_id": result.run_id,
            "eightflow.version": result.version,
            "eightflow.status": result.status,
            "eightflow.cost_usd": result.cost_usd or 0.0,
            "prefect.flow_run.id": result.flow_run_id or "",
            "gen_ai.request.model": next((s.model for s in result.steps if s.model), ""),
            "gen_ai.usage.input_tokens": result.tokens.input,
            "gen_ai.usage.output_tokens": result.tokens.output,
        },
    )
    parent = trace.set_span_in_context(root)
    for step in result.steps:
        if step.started is None:
            continue
        span = tracer.start_span(
            f"step {step.name}",
            context=parent,
            start_time=_ns(step.started),
            attributes={
                "eightflow.step": step.name,
                "eightflow.status": step.status,
                "eightflow.attempts": step.attempts,
                "gen_ai.request.model": step.model or "",
                "gen_ai.usage.input_tokens": step.tokens_in,
                "gen_ai.usage.output_tokens": step.tokens_out,
                "eightflow.cost_usd": step.cost_usd if step.cost_usd is not None else -1.0,
                "eightflow.prompt": step.prompt or "",
                "error.message": sanitize_text(step.error or "", limit=300),
            },
        )
        inner = trace.set_span_in_context(span)
        for call in step.calls:
            end = call.started.timestamp() * 1e9 + call.latency_ms * 1e6
            child = tracer.start_span(
                f"chat {call.model}",
                context=inner,
                start_time=_ns(call.started),
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.system": call.provider,
                    "gen_ai.request.model": call.model,
                    "gen_ai.usage.input_tokens": call.tokens_in,
                    "gen_ai.usage.output_tokens": call.tokens_out,
                    "eightflow.cost_usd": call.cost_usd if call.cost_usd is not None else -1.0,
                    "eightflow.prompt": call.prompt_ref or "",
                    "eightflow.cache_hit": call.cache_hit,
                },
            )
            child.end(end_time=int(end))
            count += 1
        span.end(end_time=_ns(step.finished))
        count += 1
    root.end(end_time=_ns(result.finished))
    return count + 1
