"""Performance targets a workflow declares: checked after each run, breaches announced.

Targets are data in the definition (no Prefect here); ``eightflow.observe.targets`` checks
them against the ledger and emits a Prefect event for each breach.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PerformanceTargets(BaseModel):
    """Each target is optional; ``window`` is how many recent runs are judged."""

    model_config = ConfigDict(frozen=True)

    p95_step_latency_ms: float | None = Field(default=None, gt=0)
    cost_per_document_usd: float | None = Field(default=None, ge=0)
    success_rate: float | None = Field(default=None, ge=0, le=1)
    window: int = Field(default=50, ge=1, le=10_000)

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (self.p95_step_latency_ms, self.cost_per_document_usd, self.success_rate)
        )
