"""``MetricsCollector``: success, failure, latency, tokens and cost across runs.

It keeps what the monitor records in memory and can also load rows from the ledger, so
"which step is slow" has an answer across processes, not just within one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from eightflow.observe.stats import percentile
from eightflow.observe.tracer import Trace
from eightflow.runtime.records import WorkflowResult


@dataclass
class RunSample:
    workflow: str
    version: str
    ok: bool
    status: str
    error_type: str | None
    cost_usd: float | None
    tokens: int
    duration_ms: float
    steps: list[dict[str, Any]] = field(default_factory=list)


class MetricsCollector:
    """Counts successes and failures; summarises latency, tokens and cost per step."""

    def __init__(self) -> None:
        self.samples: list[RunSample] = []

    def record_success(
        self, workflow: Any, trace: Trace, result: WorkflowResult | None = None
    ) -> None:
        self._record(workflow, trace, result or trace.result, None)

    def record_failure(
        self,
        workflow: Any,
        trace: Trace,
        error: BaseException,
        result: WorkflowResult | None = None,
    ) -> None:
        self._record(
            workflow, trace, result or getattr(error, "result", None) or trace.result, error
        )

    def _record(
        self,
        workflow: Any,
        trace: Trace,
        result: WorkflowResult | None,
        error: BaseException | None,
    ) -> None:
        if result is None:
            self.samples.append(
                RunSample(
                    trace.workflow,
                    getattr(workflow, "version", "?"),
                    False,
                    "failed",
                    type(error).__name__ if error else None,
                    None,
                    0,
                    trace.duration_ms or 0.0,
                )
            )
            return
        self.samples.append(
            RunSample(
                workflow=result.workflow,
                version=result.version,
                ok=result.ok and error is None,
                status=result.status,
                error_type=result.error_type or (type(error).__name__ if error else None),
                cost_usd=result.cost_usd,
                tokens=result.tokens.total,
                duration_ms=result.duration_ms,
                steps=[s.row() for s in result.steps],
            )
        )

    @property
    def runs(self) -> int:
        return len(self.samples)

    @property
    def success_rate(self) -> float | None:
        return sum(s.ok for s in self.samples) / len(self.samples) if self.samples else None

    def failure_reasons(self) -> dict[str, int]:
        return dict(Counter(s.error_type or s.status for s in self.samples if not s.ok))

    def step_latency(self) -> dict[str, dict[str, float | None]]:
        by_step: dict[str, list[float]] = defaultdict(list)
        for sample in self.samples:
            for row in sample.steps:
                if row.get("duration_ms") is not None and row.get("status") == "completed":
                    by_step[row["step"]].append(float(row["duration_ms"]))
        return {
            step: {
                "p50_ms": percentile(v, 50),
                "p95_ms": percentile(v, 95),
                "p99_ms": percentile(v, 99),
                "n": len(v),
            }
            for step, v in by_step.items()
        }

    def report(
        self,
        workflow: str | None = None,
        since: Any = None,
        by: Any = None,
        ledger: Any = None,
    ) -> dict[str, Any]:
        """The same metrics across every recorded run, read from the ledger.

        What this collector saw in-process is a window; the ledger holds every run of every
        process (single, batch, deployments), so cross-run questions are answered there.
        """
        from eightflow.observe.ledger_metrics import ledger_report
        from eightflow.store.ledger import default_ledger

        return ledger_report(ledger or default_ledger(), workflow=workflow, since=since, by=by)

    def summary(self) -> dict[str, Any]:
        costs = [s.cost_usd for s in self.samples]
        known = [c for c in costs if c is not None]
        return {
            "runs": self.runs,
            "success_rate": self.success_rate,
            "failures": self.failure_reasons(),
            "cost_usd": sum(known) if len(known) == len(costs) else None,
            "tokens": sum(s.tokens for s in self.samples),
            "steps": self.step_latency(),
        }
