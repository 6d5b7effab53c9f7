"""The planner driver: a planner chooses the steps, round by round, within hard bounds.

A :class:`Planner` (``DynamicWorkflow`` is one) answers four calls, the seed's loop:
``is_complete``, ``plan_next_steps``, ``execute_steps`` and ``create_result``.
:class:`PlannerDriver` runs that loop (the planner's own ``loop``, which may be the seed's
``execute`` as written) as the first stage of a run, and makes each call a bounded part of
it:

- :func:`planning_round`: the planner's ``plan_next_steps`` runs as a Prefect task; a plan
  the registry rejects goes back to it with the problems, up to ``max_replans`` times;
- :func:`run_planned_steps`: the accepted steps compile to a small graph and run as tasks,
  concurrently where their inputs allow;
- :func:`bounded_completion`: the planner's ``is_complete``, or True once ``max_iterations``
  rounds or ``max_steps`` steps are reached; the budget and the definition's
  ``timeout_seconds`` end the loop too, and the run says ``stopped`` and why.

The run's state (:class:`eightflow.planning.step_factory.LoopState`) is a context variable, which
each asyncio task copies, so one planner can serve many documents at once in a batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from eightflow.definition import Step, WorkflowDefinition
from eightflow.errors import BudgetExceeded, WorkflowError
from eightflow.pipeline.driver import Driven
from eightflow.planning.step_factory import LoopState, PlanError, PlanningRound, loop_state
from eightflow.runtime.context import Context, StepResult, current_scope
from eightflow.runtime.records import WorkflowResult
from eightflow.runtime.run_state import RunState

if TYPE_CHECKING:
    from eightflow.prompts import PromptRegistry

PlanBody = Callable[[Any, Context], Awaitable[list[Step]]]
CompleteBody = Callable[[Any, Context], bool]


class Planner(Protocol):
    """What the planner driver needs of a planner-driven workflow."""

    @property
    def max_iterations(self) -> int: ...

    @property
    def max_steps(self) -> int: ...

    @property
    def max_replans(self) -> int: ...

    @property
    def planning_prompt(self) -> str: ...

    @property
    def definition(self) -> WorkflowDefinition: ...

    @property
    def version(self) -> str: ...

    @property
    def prompts(self) -> PromptRegistry: ...

    async def plan_next_steps(self, context: Context) -> list[Step]: ...

    async def execute_steps(self, steps: list[Step], context: Context) -> dict[str, Any]: ...

    def is_complete(self, context: Context) -> bool: ...

    def create_result(self, context: Context) -> Mapping[str, Any]: ...

    def planning_variables(self, context: Context, state: LoopState) -> dict[str, Any]: ...


class BoundReached(WorkflowError):
    """A hard bound was reached: the loop ends and the run is ``stopped``."""


class PlannerDriver:
    """Runs ``loop(planner)`` (the seed's loop) in the current flow run, bounded."""

    def __init__(self, planner: Planner, loop: Callable[[Any], Awaitable[Any]]) -> None:
        self.planner = planner
        self.loop = loop

    async def drive(self, run: RunState, inputs: dict[str, Any]) -> Driven:
        planner = self.planner
        state = LoopState(planner, run, inputs)
        token, scope = loop_state.set(state), current_scope.set(state)
        started = datetime.now(UTC)
        try:
            fatal, value = await self._bounded_loop(state)
            context = state.context if state.context is not None else Context(inputs)
            if isinstance(value, WorkflowResult):  # the loop ran a whole run of its own
                value = value.outputs
            outputs = dict(value) if isinstance(value, Mapping) else planner.create_result(context)
        finally:
            current_scope.reset(scope)
            loop_state.reset(token)
        return Driven(
            definition=_executed(planner.definition, state.steps),
            outputs={k: v for k, v in outputs.items() if not k.startswith("_plan_")},
            records=list(state.records),
            fatal=fatal,
            stop_reason=state.stop_reason if fatal is None else None,
            planning=[r.model_dump() for r in state.rounds],
            started=started,
        )

    async def _bounded_loop(self, state: LoopState) -> tuple[WorkflowError | None, Any]:
        timeout = self.planner.definition.timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                return None, await self.loop(self.planner)
        except BoundReached as exc:
            state.stop_reason = exc.message
        except TimeoutError:
            state.stop_reason = f"timeout ({timeout} s) reached"
        except BudgetExceeded as exc:
            state.stop_reason = f"budget: {exc.message}"
        except WorkflowError as exc:
            cause = exc.original if isinstance(exc.original, WorkflowError) else exc
            if not isinstance(cause, BudgetExceeded):
                return exc, None
            state.stop_reason = f"budget: {cause.message}"
        return None, None


def _executed(definition: WorkflowDefinition, steps: list[Step]) -> WorkflowDefinition:
    """The graph a planner ran: its steps, and the review rules of the steps that ran."""
    names = {s.name for s in steps}
    rules = tuple(r for r in definition.review if r.step in names)
    return definition.model_copy(
        update={"steps": tuple(steps) or definition.steps, "review": rules}
    )


def current_loop() -> LoopState:
    state = loop_state.get()
    if state is None:
        raise WorkflowError("plan_next_steps/execute_steps run only inside execute()")
    return state


def bounded_completion(done: CompleteBody, planner: Planner, context: Context) -> bool:
    """The planner's ``is_complete``; inside a run, also True once a bound is reached."""
    state = loop_state.get()
    if state is None:
        return bool(done(planner, context))
    state.context = context
    if state.stop_reason is not None or done(planner, context):
        return True
    if len(state.rounds) >= planner.max_iterations:
        state.stop_reason = (
            f"max_iterations ({planner.max_iterations}) reached before the loop was complete"
        )
    elif len(state.executed) >= planner.max_steps:
        state.stop_reason = f"max_steps ({planner.max_steps}) reached"
    return state.stop_reason is not None


async def planning_round(plan_body: PlanBody, planner: Planner, context: Context) -> list[Step]:
    """One round: ``plan_body`` runs as a Prefect task; a rejected plan goes back to it."""
    state = loop_state.get()
    if state is None:
        return await plan_body(planner, context)
    state.context = context
    if len(state.rounds) >= planner.max_iterations:
        raise BoundReached(f"max_iterations ({planner.max_iterations}) reached")
    number = len(state.rounds) + 1
    record = PlanningRound(round=number, prompt=planner.prompts.get(planner.planning_prompt).ref)
    state.rounds.append(record)
    t0 = time.perf_counter()
    state.feedback = []
    try:
        for attempt in range(planner.max_replans + 1):
            record.replans = attempt
            state.last_plan = None
            answer = await _plan_task(plan_body, planner, context, number, attempt)
            plan = state.last_plan
            if plan is not None:
                record.rationale, record.done = plan.rationale, plan.done
                record.plan = [p.model_dump() for p in plan.steps]
            if isinstance(answer, PlanError):
                record.rejected.extend(answer.problems)
                state.feedback = answer.problems
                continue
            record.accepted = [s.name for s in answer]
            state.planner_done = plan.done if plan is not None else not answer
            return answer
        record.error = f"no acceptable plan after {planner.max_replans + 1} tries"
        raise WorkflowError(record.error)
    finally:
        record.duration_ms = (time.perf_counter() - t0) * 1000


async def _plan_task(
    plan_body: PlanBody, planner: Planner, context: Context, number: int, attempt: int
) -> list[Step] | PlanError:
    """The planning call runs as a step of its own, so it is a Prefect task, traced."""
    key = f"_plan_{number}_{attempt}"

    async def plan_handler(ctx: Context) -> StepResult:
        try:
            steps = list(await plan_body(planner, context))
        except PlanError as exc:
            return StepResult(**{key: exc})
        return StepResult(**{key: steps})

    name = f"plan-{number}" + (f"-retry{attempt}" if attempt else "")
    outputs = await _run_graph(planner, [Step(name=name, handler=plan_handler)], context)
    answer: list[Step] | PlanError = outputs[key]
    return answer


async def run_planned_steps(
    planner: Planner, steps: list[Step], context: Context
) -> dict[str, Any]:
    """Run accepted steps as Prefect tasks, concurrently where independent."""
    state = current_loop()
    if len(state.executed) + len(steps) > planner.max_steps:
        raise BoundReached(f"max_steps ({planner.max_steps}) would be exceeded")
    if not steps:
        return {}
    outputs = await _run_graph(planner, steps, context)
    state.executed.extend(s.name for s in steps)
    return outputs


async def _run_graph(planner: Planner, steps: list[Step], context: Context) -> dict[str, Any]:
    from eightflow.compiler.prefect_flow import CompiledWorkflow
    from eightflow.runtime.executor import StepExecutor

    state = current_loop()
    definition = WorkflowDefinition(name=planner.definition.name, steps=tuple(steps))
    executor = StepExecutor(definition, state.run, context.to_dict())
    outcome = await CompiledWorkflow(definition, planner.version).run_steps(executor)
    state.steps.extend(steps)
    state.records.extend(state.run.records[step.name] for step in steps)
    if outcome.fatal is not None:
        raise outcome.fatal
    merged: dict[str, Any] = {}
    for values in executor.outputs.values():
        merged.update(values)
    return merged
