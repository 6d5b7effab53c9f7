"""The first stage of a run: a driver runs the steps and the run's outcome becomes a result.

A driver is what decides which steps run: :class:`StaticDriver` runs a definition's graph;
:class:`eightflow.planning.driver.PlannerDriver` asks a planner for steps, round by round.
Either hands back a :class:`Driven` (the definition actually executed, the outputs, the
step records, the first fatal error), which :func:`build_result` folds into the run's
``WorkflowResult``, the same way for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from eightflow.definition import WorkflowDefinition
from eightflow.errors import BudgetExceeded, StepTimeout, WorkflowError
from eightflow.runtime.records import RunStatus, StepRecord, TokenUsage, WorkflowResult, total_cost
from eightflow.runtime.run_state import RunState
from eightflow.safety.sanitize import sanitize_text
from eightflow.server.ui_links import flow_run_url

if TYPE_CHECKING:
    from eightflow.compiler.prefect_flow import CompiledWorkflow

Granularity = Literal["document", "step"]


@dataclass
class Driven:
    """What a driver ran: its graph, outputs and step records, and how it ended."""

    definition: WorkflowDefinition  # the steps that ran (a planner's: those it chose)
    outputs: dict[str, Any]
    records: list[StepRecord]
    fatal: WorkflowError | None = None
    stop_reason: str | None = None  # a planner's bound (iterations, steps, budget, time)
    planning: list[dict[str, Any]] | None = None  # a planner's rounds
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


class Driver(Protocol):
    """Runs one run's steps in the current flow run."""

    async def drive(self, run: RunState, inputs: dict[str, Any]) -> Driven: ...


class StaticDriver:
    """A definition's graph: a Prefect task per step, or one per document in a batch."""

    def __init__(
        self,
        definition: WorkflowDefinition,
        compiled: CompiledWorkflow,
        granularity: Granularity = "step",
    ) -> None:
        self.definition = definition
        self.compiled = compiled
        self.granularity = granularity

    async def drive(self, run: RunState, inputs: dict[str, Any]) -> Driven:
        from eightflow.runtime.executor import StepExecutor

        started = datetime.now(UTC)
        executor = StepExecutor(self.definition, run, inputs)
        if self.granularity == "document":
            orchestration = await self.compiled.run_document(executor)
        else:
            orchestration = await self.compiled.run_steps(executor)
        outputs: dict[str, Any] = {}
        for name in self.definition.topological_order():
            outputs.update(executor.outputs.get(name, {}))
        records = [run.records[leaf.name] for leaf in self.definition.leaves]
        return Driven(self.definition, outputs, records, orchestration.fatal, started=started)


def build_result(run: RunState, driven: Driven) -> WorkflowResult:
    """Fold what the driver ran into a ``WorkflowResult``; evaluate the success criteria.

    A planner's bound reached without a fatal error makes the run ``stopped``, with why.
    """
    definition, outputs, records, fatal = (
        driven.definition,
        driven.outputs,
        driven.records,
        driven.fatal,
    )
    status: RunStatus = "completed"
    error = error_type = None
    failed_criteria: list[str] = []
    if fatal is not None:
        cause = fatal.original if isinstance(fatal.original, BaseException) else fatal
        error, error_type = sanitize_text(str(fatal), limit=2000), type(cause).__name__
        status = "failed"
        if isinstance(cause, BudgetExceeded):
            status = "budget_exceeded"
        elif isinstance(cause, StepTimeout) and cause.step is None:
            status = "timed_out"
    elif driven.stop_reason is not None:
        status, error, error_type = "stopped", driven.stop_reason, "BoundReached"
    else:
        for criterion in definition.success_criteria:
            ok, why = criterion.evaluate(outputs)
            if not ok:
                failed_criteria.append(criterion.name)
                error = (error + "; " if error else "") + f"{criterion.name}: {why}"
        if failed_criteria:
            status, error_type = "criteria_failed", "CriteriaFailed"
            error = "success criteria failed: " + (error or "")
    finished = datetime.now(UTC)
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    flow_run_id = str(ctx.flow_run.id) if ctx and ctx.flow_run else None
    return WorkflowResult(
        run_id=run.run_id,
        workflow=definition.name,
        version=run.version,
        status=status,
        outputs=outputs,
        steps=records,
        cost_usd=total_cost(records),
        tokens=TokenUsage(
            input=sum(r.tokens_in for r in records), output=sum(r.tokens_out for r in records)
        ),
        model_calls=run.model_calls,
        cache_hits=run.cache_hits,
        started=driven.started,
        finished=finished,
        duration_ms=(finished - driven.started).total_seconds() * 1000,
        error=error,
        error_type=error_type,
        failed_criteria=failed_criteria,
        flow_run_id=flow_run_id,
        ui_url=flow_run_url(flow_run_id),
        planning=driven.planning,
    )
