"""Per-run and per-step state, carried in context variables.

The gateway needs to know which run's budget and limiter to charge and which step's trace
to append to, without every handler passing them along. Context variables give that, and
they follow ``asyncio`` tasks and ``asyncio.to_thread`` correctly.
"""

from __future__ import annotations

import asyncio
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from eightflow.runtime.budget import Budget
from eightflow.runtime.limiter import CallLimiter
from eightflow.runtime.records import StepRecord


@dataclass
class RunState:
    """Everything one run shares between its steps."""

    workflow: str
    version: str
    budget: Budget = field(default_factory=Budget)
    limiter: CallLimiter = field(default_factory=CallLimiter)
    model: str | None = None
    api_base: str | None = None
    fallback_models: tuple[str, ...] = ()
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    records: dict[str, StepRecord] = field(default_factory=dict)
    cache: Any = None
    document_id: str | None = None
    model_calls: int = 0
    cache_hits: int = 0
    loop: asyncio.AbstractEventLoop | None = None  # sync handlers send model calls here
    replay: Any = None  # a ReplaySource when re-running a recorded run from the ledger
    # (step, request key) -> (invalid answer, validation errors): re-asked on the next attempt
    reasks: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)


@dataclass
class StepScope:
    """The step a model call belongs to, and which attempt of it this is."""

    record: StepRecord
    attempt: int = 1
    step_model: str | None = None
    model_override: str | None = None


current_run: ContextVar[RunState | None] = ContextVar("eightflow_run", default=None)
current_step: ContextVar[StepScope | None] = ContextVar("eightflow_step", default=None)


def record_note(**values: Any) -> None:
    """Attach facts to the current step's trace (e.g. how a document was chunked)."""
    scope = current_step.get()
    if scope is not None:
        scope.record.notes.update(values)
