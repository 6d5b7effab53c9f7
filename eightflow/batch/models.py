"""Batch data: options, one outcome per document, and the running summary.

Outcomes stream to sinks as documents finish; the summary keeps only counts and small
aggregates, so a 10,000-document batch does not hold 10,000 results in memory.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from eightflow.observe.stats import percentile
from eightflow.runtime.records import StepRecord
from eightflow.safety.form_types import none_if_empty

DocumentStatus = Literal[
    "completed", "failed", "budget_exceeded", "unprocessed", "needs_review", "rejected"
]


class BatchOptions(BaseModel):
    """How to run a batch: the engine's options. Each field's description is the one text
    the ``eightflow analyze`` help and the deployment's Run form both show (they are
    derived from :class:`eightflow.batch.params.BatchParams`, which adds the folder's)."""

    model: str | None = Field(
        default=None,
        description="litellm model string (e.g. openai/gpt-4o-mini); in a Run form, a choice "
        "of the operator's list (EIGHTFLOW_ALLOWED_MODELS). Empty: EIGHTFLOW_MODEL or the "
        "embedded offline model.",
    )
    concurrency: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Model calls in flight for the whole batch, across all its shards and "
        "workers (1 to 256).",
    )
    rpm: float | None = Field(
        default=None,
        gt=0,
        description="Requests per minute cap across the batch; 0 or empty: none.",
    )
    max_cost_usd: float | None = Field(
        default=None,
        ge=0,
        description="Spend cap in USD for the whole batch, across all its shards and "
        "workers: no model call starts past it; 0 or empty: no cap.",
    )
    on_budget: Literal["stop", "cheaper", "batch-api", "ask"] = Field(
        default="stop",
        description="What the batch does when its spend reaches budget_switch_at of "
        "max_cost_usd (no cap: nothing): 'stop' carries on to the cap, then stops; "
        "'cheaper' sends the remaining documents to the first cheaper fallback model; "
        "'batch-api' sends them through the provider's Batch API; 'ask' suspends the run "
        "for a person to choose.",
    )
    budget_switch_at: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="The share of max_cost_usd (0 to 1) at which on_budget switches.",
    )
    refresh: bool = Field(default=False, description="Ignore cached results and answers.")
    review_below: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Send outputs whose confidence is below this (0 to 1) to a person: the "
        "document ends needs_review (see `eightflow review list`). 0 or empty: no review.",
    )
    granularity: Literal["document", "step"] = Field(
        default="document",
        description="'document': one Prefect task per document (fast at scale); "
        "'step': one Prefect task per step per document (most detail in the UI).",
    )
    api_base: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (the operator's EIGHTFLOW_API_BASE; never "
        "a Run form's).",
    )
    mode: Literal["online", "batch-api"] = Field(
        default="online",
        description="'online': one request per call; 'batch-api': calls go out in waves "
        "through the provider's Batch API (about half the price, answers within 24 h).",
    )
    batch_max_wait_s: float = Field(
        default=3600,
        gt=0,
        description="batch-api: stop waiting after this long; open batches stay in the "
        "ledger and the next run collects them without resubmitting.",
    )
    workers: int | None = Field(
        default=None,
        ge=0,
        le=64,
        description="Processes that run documents inside this run. Empty or 0: one per "
        "core (up to 4) when the batch is large, concurrency is 16 or more per process "
        "and the documents are not already cached; else one. 1: always one.",
    )
    shard_index: int = Field(
        default=0, ge=0, description="This run's shard (batch-sharded sets it)."
    )
    shard_count: int = Field(
        default=1, ge=1, description="How many shards the folder is split into."
    )
    batch_key: str | None = Field(
        default=None,
        pattern=r"^([a-z0-9][a-z0-9-]{0,39})?$",  # "" from a form: none
        description="batch-sharded sets it: the key of the limits the batch's shards share "
        "(its calls in flight and spend); empty: a batch of its own.",
    )
    final_pass_s: float = Field(
        default=600.0,
        ge=0,
        description="After the main pass, retry documents that failed only for transient "
        "reasons (429, 5xx, timeouts) with longer backoff, for at most this many seconds; "
        "0 turns the final pass off.",
    )
    allow_unpriced: bool = Field(
        default=False,
        description="Run with a cost cap even when the model's price is unknown "
        "(the cap then cannot hold).",
    )

    @field_validator(
        "model", "rpm", "max_cost_usd", "review_below", "workers", "batch_key", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        """A form's empty value ("" or 0) means none: no cap, no review, the default model."""
        return none_if_empty(value)


class DocumentOutcome(BaseModel):
    """What happened to one document."""

    id: str
    path: str
    sha256: str | None = None
    status: DocumentStatus
    error: str | None = None
    error_type: str | None = None
    input_error: bool = Field(default=False, description="Failed for a reason in its own input.")
    cache_hit: bool = False
    title: str | None = None
    loader: str | None = None
    pages: int | None = None
    chars: int | None = None
    row: dict[str, Any] = Field(default_factory=dict)
    steps: list[StepRecord] = Field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = 0.0
    duration_ms: float = 0.0
    attempts: int = 0
    model_calls: int = 0
    run_id: str | None = None
    task_run_id: str | None = None
    transient: bool = Field(default=False, description="Failed only for transient reasons.")
    final_pass: bool = Field(default=False, description="Went through the final pass.")
    faults_outlasted: int = Field(default=0, description="Failed attempts before it completed.")
    grounded: bool | None = Field(
        default=None,
        description="The model's answers are found in the document; None: nothing checkable.",
    )
    model: str | None = Field(default=None, description="The batch model that produced it.")
    mode: Literal["direct", "batch-api"] | None = Field(
        default=None, description="'direct' (one request per call) or 'batch-api'."
    )

    def results_row(self) -> dict[str, Any]:
        """A row of results.csv: fixed columns first, then the workflow's own columns."""
        head = {
            "id": self.id,
            "status": self.status,
            "error": self.error,
        }
        tail = {
            "grounded": self.grounded,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.cost_usd,
            "duration_ms": round(self.duration_ms, 1),
            "attempts": self.attempts,
            "retries": sum(max(step.attempts - 1, 0) for step in self.steps),
            "cache_hit": self.cache_hit,
            "model": self.model,
            "mode": self.mode,
        }
        return {**head, **self.row, **tail}


def _float_map() -> dict[str, float]:
    return defaultdict(float)


def _list_map() -> dict[str, list[float]]:
    return defaultdict(list)


class BatchSummary(BaseModel):
    """Counts and aggregates, updated as each document finishes."""

    workflow: str
    version: str
    expected: int | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    input_failures: int = 0
    budget_exceeded: int = 0
    needs_review: list[str] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    review_notes: dict[str, tuple[str, str]] = Field(default_factory=dict)  # id, reason
    unprocessed: list[str] = Field(default_factory=list)
    ungrounded: list[str] = Field(default_factory=list)  # answers not found in the document
    cache_hits: int = 0
    model_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = 0.0
    unpriced: bool = False
    duration_s: float = 0.0
    budget_exhausted: bool = False
    errors: Counter[str] = Field(default_factory=Counter)
    cost_by_step: dict[str, float] = Field(default_factory=_float_map)
    cost_by_model: dict[str, float] = Field(default_factory=_float_map)
    durations: dict[str, list[float]] = Field(default_factory=_list_map)
    flow_run_id: str | None = None
    faults_outlasted: int = 0
    # Runs of documents served from cache that the ledger could not record, and why.
    ledger_unrecorded: int = 0
    ledger_error: str | None = None
    final_pass_documents: int = 0
    final_pass_recovered: int = 0
    concurrency_changes: list[dict[str, Any]] = Field(default_factory=list)
    charged_failed_calls: int = 0
    # on_budget switches, in order: when, from what to what, why (eightflow.batch.on_budget)
    budget_switches: list[dict[str, Any]] = Field(default_factory=list)
    batch_api: dict[str, Any] | None = None  # waves, batches, cost vs online (batch-api mode)
    workers: int = 1  # processes that ran documents
    documents_per_worker: list[int] = Field(default_factory=list)
    peak_rss_mb_per_worker: list[float] = Field(default_factory=list)
    cpu_s_per_worker: list[float] = Field(default_factory=list)  # spawned workers only

    def add(self, outcome: DocumentOutcome) -> None:
        self.total += 1
        if outcome.status == "completed":
            self.completed += 1
        elif outcome.status == "rejected":  # analysed; a person rejected it earlier
            self.rejected.append(outcome.id)
        elif outcome.status == "needs_review":
            self.needs_review.append(outcome.id)
            self.review_notes[outcome.id] = (
                str(outcome.row.get("review_id", "")),
                str(outcome.row.get("review_reason", "")),
            )
        elif outcome.status == "unprocessed":
            self.unprocessed.append(outcome.id)
        else:
            self.failed += 1
            self.input_failures += int(outcome.input_error)
            self.budget_exceeded += int(outcome.status == "budget_exceeded")
            self.errors[f"{outcome.error_type}: {(outcome.error or '')[:120]}"] += 1
        if outcome.grounded is False:
            self.ungrounded.append(outcome.id)
        self.cache_hits += int(outcome.cache_hit)
        self.faults_outlasted += outcome.faults_outlasted
        self.final_pass_documents += int(outcome.final_pass)
        self.final_pass_recovered += int(outcome.final_pass and outcome.status == "completed")
        self.model_calls += outcome.model_calls
        if not outcome.cache_hit:
            self.tokens_in += outcome.tokens_in
            self.tokens_out += outcome.tokens_out
            if outcome.cost_usd is None:
                self.unpriced = True
            elif self.cost_usd is not None:
                self.cost_usd += outcome.cost_usd
        for step in outcome.steps:
            if step.duration_ms is not None and step.status == "completed":
                self.durations[step.name].append(step.duration_ms)
            if outcome.cache_hit:
                continue
            for call in step.calls:
                if call.cost_usd is not None and not call.cache_hit:
                    self.cost_by_step[step.name] += call.cost_usd
                    self.cost_by_model[call.model] += call.cost_usd

    @property
    def success_rate(self) -> float:
        processed = self.total - len(self.unprocessed)
        # A document waiting for review was analysed: the model's part succeeded.
        done = self.completed + len(self.needs_review) + len(self.rejected)
        return done / processed if processed else 1.0

    def criteria(self, min_success_rate: float = 0.95) -> list[str]:
        """Why the batch is not a success; empty when it is."""
        reasons = []
        if self.budget_exhausted:
            reasons.append(f"budget exhausted: {len(self.unprocessed)} documents left unprocessed")
        if self.success_rate < min_success_rate:
            reasons.append(
                f"only {self.completed} of {self.total - len(self.unprocessed)} documents "
                f"succeeded ({self.success_rate:.0%} < {min_success_rate:.0%})"
            )
        stops = [s for s in self.budget_switches if s.get("to_mode") == "stopped"]
        if stops and self.unprocessed and not self.budget_exhausted:
            reasons.append(
                f"stopped at the budget's switch point ({stops[-1].get('reason')}): "
                f"{len(self.unprocessed)} documents left unprocessed"
            )
        other = self.failed - self.input_failures
        if other:
            reasons.append(f"{other} documents failed for reasons other than their own input")
        if self.ledger_unrecorded:
            reasons.append(
                f"{self.ledger_unrecorded} runs of documents served from cache are not in the "
                f"ledger ({self.ledger_error})"
            )
        return reasons

    def step_stats(self) -> dict[str, dict[str, float | None]]:
        return {
            step: {"p50_ms": percentile(v, 50), "p95_ms": percentile(v, 95), "n": len(v)}
            for step, v in self.durations.items()
        }

    def brief(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "version": self.version,
            "total": self.total,
            "completed": self.completed,
            "failed": self.failed,
            "needs_review": len(self.needs_review),
            "needs_review_ids": list(self.needs_review),
            "rejected": len(self.rejected),
            "ungrounded": len(self.ungrounded),
            "ungrounded_ids": list(self.ungrounded),
            "unprocessed": len(self.unprocessed),
            "unprocessed_ids": list(self.unprocessed),
            "cache_hits": self.cache_hits,
            "model_calls": self.model_calls,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": None if self.unpriced else self.cost_usd,
            "duration_s": round(self.duration_s, 3),
            "budget_exhausted": self.budget_exhausted,
            "workers": self.workers,
            "documents_per_worker": list(self.documents_per_worker),
            "peak_rss_mb": round(sum(self.peak_rss_mb_per_worker), 1),
            "cpu_s_per_worker": list(self.cpu_s_per_worker),
            "faults_outlasted": self.faults_outlasted,
            "ledger_unrecorded": self.ledger_unrecorded,
            "final_pass_documents": self.final_pass_documents,
            "final_pass_recovered": self.final_pass_recovered,
            "concurrency_changes": len(self.concurrency_changes),
            "budget_switches": [dict(s) for s in self.budget_switches],
            **({"batch_api": self.batch_api} if self.batch_api is not None else {}),
            "success": not self.criteria(),
            "reasons": self.criteria(),
            "headline": self.headline(),
        }

    def headline(self) -> str:
        """How the batch ended, in words: never "success" while documents wait for people."""
        if self.criteria():
            return "not a success"
        if self.needs_review:
            return f"{len(self.needs_review)} awaiting review"
        return "success"
