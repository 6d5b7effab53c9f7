"""``WorkflowTracer``: the seed's tracer, backed by real run records.

``start_trace`` opens a trace for a workflow; ``capture_step`` gives the seed's dict for a
step (sanitized input, timestamp, duration, tokens); ``finish`` turns a ``WorkflowResult``
into sanitized trace rows and hands them to its sinks (the ledger, ``trace.jsonl``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eightflow.runtime.records import StepRecord, WorkflowResult
from eightflow.safety.excerpts import excerpt
from eightflow.safety.sanitize import sanitize_text

Sink = Callable[["Trace"], None]


@dataclass
class Trace:
    """One observed run: opened before it starts, closed with its result."""

    workflow: str
    trace_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: datetime | None = None
    result: WorkflowResult | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def duration_ms(self) -> float | None:
        if self.finished is None:
            return None
        return (self.finished - self.started).total_seconds() * 1000


class WorkflowTracer:
    """Captures step traces; every value passes through the one sanitizer."""

    def __init__(self, sinks: list[Sink] | None = None) -> None:
        self.sinks = list(sinks or [])
        self.traces: list[Trace] = []

    @staticmethod
    def rows(result: WorkflowResult) -> list[dict[str, Any]]:
        """One sanitized row per step: the trace table artifact, ``trace.jsonl`` and
        :meth:`finish` all use these rows, so they cannot disagree."""
        rows = []
        for record in result.steps:
            row = record.row()
            row["run_id"] = result.run_id
            row["prompt_hash"] = record.prompt_hash
            row["input"] = sanitize_text(record.input or "", limit=300)
            row["error"] = sanitize_text(row["error"] or "", limit=300) or None
            row["grounding"] = _grounding(record.notes.get("grounding"))
            rows.append(row)
        return rows

    def start_trace(self, workflow: Any) -> Trace:
        name = (
            getattr(getattr(workflow, "definition", None), "name", None) or type(workflow).__name__
        )
        trace = Trace(workflow=name)
        self.traces.append(trace)
        return trace

    def sanitize(self, context: Any) -> str:
        if context is None:
            return ""
        data = context.to_dict() if hasattr(context, "to_dict") else context
        return excerpt(data, limit=300)

    def capture_step(self, step: Any, context: Any = None) -> dict[str, Any]:
        """A step's trace as a dict. ``step`` is a ``StepRecord`` (or anything with a name)."""
        record = step if isinstance(step, StepRecord) else None
        return {
            "step": step.name,
            "input": self.sanitize(context)
            if context is not None
            else (record.input if record else ""),
            "timestamp": (record.started if record and record.started else datetime.now(UTC)),
            "duration": record.duration_ms if record else getattr(step, "duration", None),
            "tokens_used": (record.tokens_in + record.tokens_out)
            if record
            else getattr(step, "token_usage", 0),
            "cost_usd": record.cost_usd if record else None,
            "attempts": record.attempts if record else None,
            "outcome": record.status if record else None,
        }

    def finish(
        self, trace: Trace, result: WorkflowResult | None, error: BaseException | None = None
    ) -> Trace:
        trace.finished = datetime.now(UTC)
        trace.result = result
        trace.rows = self.rows(result) if result is not None else []
        if error is not None:
            trace.error = excerpt(str(error), limit=300)
        for sink in self.sinks:
            sink(trace)
        return trace


def _grounding(note: dict[str, Any] | None) -> str | None:
    """A step's grounding check in a cell: "grounded", "ungrounded: why", or None."""
    if not note:
        return None
    if note.get("grounded"):
        return "grounded"
    return sanitize_text("ungrounded: " + "; ".join(note.get("reasons") or []), limit=300)
