"""What a run leaves behind: model-call records, step records and the ``WorkflowResult``.

These are the rows that traces, artifacts, the ledger and the CLI all print, so they are
defined once, as pydantic models, and serialised the same way everywhere.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

StepStatus = Literal["pending", "running", "completed", "failed", "skipped", "not_run", "cached"]
RunStatus = Literal[
    "completed",
    "failed",
    "budget_exceeded",
    "timed_out",
    "criteria_failed",
    "stopped",
    "needs_review",  # a batch document waiting for a person (eightflow.review)
    "rejected",  # a person rejected an output under a review rule
]


class ModelCall(BaseModel):
    """One request to a model, successful or not. ``cost_usd`` is None when unpriced."""

    model: str
    provider: str
    prompt_id: str | None = None
    prompt_version: int | None = None
    prompt_hash: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int | None = None
    cost_usd: float | None = None
    latency_ms: float = 0.0
    attempt: int = 1
    started: datetime
    error: str | None = None
    error_type: str | None = None
    cache_hit: bool = False
    output_digest: str | None = None
    response_text: str | None = Field(default=None, exclude=True)

    @property
    def prompt_ref(self) -> str | None:
        if self.prompt_id is None:
            return None
        return f"{self.prompt_id}@v{self.prompt_version}"


class StepRecord(BaseModel):
    """The trace of one step across all its attempts."""

    model_config = ConfigDict(validate_assignment=False)

    name: str
    status: StepStatus = "pending"
    group: str | None = None
    attempts: int = 0
    started: datetime | None = None
    finished: datetime | None = None
    duration_ms: float | None = None
    model: str | None = None
    prompt: str | None = None
    prompt_hash: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = 0.0
    error: str | None = None
    error_type: str | None = None
    fallback_model: str | None = None
    input: str | None = None
    output_keys: list[str] = Field(default_factory=list)
    task_run_id: str | None = None
    notes: dict[str, Any] = Field(default_factory=dict)
    calls: list[ModelCall] = Field(default_factory=list)

    def add_call(self, call: ModelCall) -> None:
        """Fold a model call into the step's totals (cost stays None if any is unpriced)."""
        self.calls.append(call)
        self.model = call.model
        if call.prompt_id is not None:
            self.prompt = call.prompt_ref
            self.prompt_hash = call.prompt_hash
        self.tokens_in += call.tokens_in
        self.tokens_out += call.tokens_out
        self.cost_usd = _add_cost(self.cost_usd, call.cost_usd)

    def row(self) -> dict[str, Any]:
        """The flat trace row shown in tables and the step table artifact."""
        return {
            "step": self.name,
            "status": self.status,
            "attempts": self.attempts,
            "start": self.started.isoformat(timespec="milliseconds") if self.started else None,
            "duration_ms": round(self.duration_ms, 1) if self.duration_ms is not None else None,
            "model": self.model,
            "prompt": self.prompt,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.cost_usd,
            "error": self.error,
        }


def _add_cost(total: float | None, cost: float | None) -> float | None:
    if total is None or cost is None:
        return None
    return total + cost


class TokenUsage(BaseModel):
    input: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output


class WorkflowResult(BaseModel):
    """Everything a caller needs from a run: status, outputs, per-step records, spend."""

    run_id: str
    workflow: str
    version: str
    status: RunStatus
    outputs: dict[str, Any] = Field(default_factory=dict)
    steps: list[StepRecord] = Field(default_factory=list)
    cost_usd: float | None = 0.0
    tokens: TokenUsage = Field(default_factory=TokenUsage)
    model_calls: int = 0
    cache_hits: int = 0
    started: datetime
    finished: datetime
    duration_ms: float
    error: str | None = None
    error_type: str | None = None
    failed_criteria: list[str] = Field(default_factory=list)
    # Whether the model's answers are grounded in the document (eightflow.review.grounding):
    # None when the run had no document or nothing checkable.
    grounded: bool | None = None
    target_breaches: list[dict[str, Any]] = Field(default_factory=list)
    planning: list[dict[str, Any]] | None = None  # dynamic workflows: one entry per round
    flow_run_id: str | None = None
    ui_url: str | None = None
    inputs: dict[str, str] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def step(self, name: str) -> StepRecord:
        for record in self.steps:
            if record.name == name:
                return record
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        from eightflow.safety.sanitize import sanitize, sanitize_text

        data = self.model_dump(mode="json")
        data["error"] = sanitize_text(self.error, limit=2000) if self.error else self.error
        # Outputs can quote the input (a summary of a document holding a key): sanitize.
        data["outputs"] = sanitize(_jsonable(self.outputs), limit=None)
        data["tokens"]["total"] = self.tokens.total
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def total_cost(steps: list[StepRecord]) -> float | None:
    """Sum of step costs; None when any call's price is unknown (never a silent 0)."""
    total: float | None = 0.0
    for record in steps:
        for call in record.calls:
            total = _add_cost(total, call.cost_usd)
    return total
