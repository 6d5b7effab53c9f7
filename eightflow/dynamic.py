"""Dynamic workflows: a model plans the next steps from a registry of step types.

Each round asks the model (prompt ``workflow_planning``) for a plan in a JSON schema; the
step factory checks it against the registry (known types, inputs available, nothing done
twice) and a bad plan is sent back with the errors, at most ``max_replans`` times. The
accepted steps compile to a small graph and run as Prefect tasks, concurrently where their
inputs allow; their outputs join the context and the loop goes on until ``is_complete``.
Hard bounds (iterations, steps, budget, time) end the run with the reason. Every round, its
plan, rationale and what was accepted or rejected, is kept in the result, the ledger and
a markdown artifact with the graph actually executed. The registry and the plan check live
in :mod:`eightflow.step_factory`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from eightflow.definition import Step, WorkflowDefinition
from eightflow.errors import BudgetExceeded, WorkflowError, WorkflowFailed
from eightflow.runtime.context import Context, StepResult, current_scope
from eightflow.runtime.records import WorkflowResult
from eightflow.runtime.run_state import RunState
from eightflow.step_factory import (
    LoopState,
    Plan,
    PlanError,
    PlannedStep,
    PlanningRound,
    StepFactory,
    StepType,
    loop_state,
)
from eightflow.workflow import Workflow, _normalise_inputs

__all__ = [
    "DynamicWorkflow",
    "Plan",
    "PlanError",
    "PlannedStep",
    "PlanningRound",
    "StepFactory",
    "StepType",
]


class DynamicWorkflow(Workflow):
    """A workflow whose steps a model chooses, round by round, within hard bounds.

    ``execute`` plans, runs and merges rounds until ``is_complete``; ``plan_next_steps`` asks
    the planning prompt for steps from the registry. A subclass may override either with
    its own loop (plan, ``execute_steps``, ``context.update``). Whatever the loop's body,
    ``execute()`` runs it as a Prefect flow run with one planning task per round and a task
    per planned step, recorded in the ledger, and bounded: ``is_complete`` also answers
    True once ``max_iterations`` rounds or ``max_steps`` steps are reached, and the budget
    and ``timeout_seconds`` end the loop too; the result then says ``stopped`` and why.
    A rejected plan is sent back with its problems, up to ``max_replans`` times.
    """

    max_iterations: ClassVar[int] = 4
    max_steps: ClassVar[int] = 12
    max_replans: ClassVar[int] = 2
    planning_prompt: ClassVar[str] = "workflow_planning"
    timeout_seconds: ClassVar[float | None] = None
    max_cost_usd: ClassVar[float | None] = None
    max_tokens: ClassVar[int | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _bind_loop_methods(cls)

    def step_types(self) -> list[StepType]:
        raise NotImplementedError(f"{type(self).__name__} must implement step_types()")

    @property
    def step_factory(self) -> StepFactory:
        if not hasattr(self, "_factory"):
            self._factory = StepFactory(self.step_types())
        return self._factory

    def define(self) -> WorkflowDefinition:
        """Name, limits and version; the registry's types stand in as the steps.

        Alternative types may write the same output (a short and a chunked summarizer), so
        each output is declared by its first writer only; the planning prompt is named so
        that editing it changes the version (and so the batch cache key).
        """
        declared: set[str] = set()
        steps = []
        for index, kind in enumerate(self.step_factory.types.values()):
            outputs = tuple(o for o in kind.outputs if o not in declared)
            declared.update(kind.outputs)
            prompts = (*kind.prompts, self.planning_prompt) if index == 0 else kind.prompts
            steps.append(
                Step(
                    name=kind.name,
                    handler=kind.handler,
                    outputs=outputs,
                    prompts=prompts,
                    description=kind.description,
                )
            )
        return WorkflowDefinition(
            name=type(self).name or type(self).__name__.lower(),
            description=(type(self).__doc__ or "").strip().split("\n")[0],
            steps=tuple(steps),
            timeout_seconds=self.timeout_seconds,
            max_cost_usd=self.max_cost_usd,
            max_tokens=self.max_tokens,
        )

    # -- the seed's loop -------------------------------------------------------------------

    async def plan_next_steps(self, context: Context) -> list[Step]:
        """Ask the planning prompt for the next steps; each call is a traced, re-planned round."""
        planning_prompt = self.prompts.get(self.planning_prompt)
        plan = await self.model.generate(planning_prompt, context)
        return self.step_factory.create_steps(plan)

    async def execute(
        self, *, raise_on_failure: bool = True, model: str | None = None, **inputs: Any
    ) -> WorkflowResult:
        """Plan and run rounds until ``is_complete``; return the run's result.

        ``raise_on_failure``, ``model`` and the workflow inputs go to the run around the loop.
        """
        context = Context()

        while not self.is_complete(context):
            next_steps = await self.plan_next_steps(context)
            results = await self.execute_steps(next_steps, context)
            context.update(results)

        return self.create_result(context)  # type: ignore[return-value]

    async def execute_steps(self, steps: list[Step], context: Context) -> dict[str, Any]:
        """Run the planned steps as Prefect tasks, concurrently where independent."""
        state = self._state
        if len(state.executed) + len(steps) > self.max_steps:
            raise _Stop(f"max_steps ({self.max_steps}) would be exceeded")
        if not steps:
            return {}
        outputs = await self._run_graph(steps, context)
        state.executed.extend(s.name for s in steps)
        return outputs

    def is_complete(self, context: Context) -> bool:
        """Done when the planner says so; subclasses may add a criterion."""
        return self._state.planner_done

    def create_result(self, context: Context) -> dict[str, Any]:
        return {k: v for k, v in context.items() if k not in self._state.inputs}

    # -- running ---------------------------------------------------------------------------

    async def execute_in_flow(
        self, run: RunState, inputs: dict[str, Any], *, record: bool = True
    ) -> WorkflowResult:
        """The loop in the flow run that is current (a deployment, replay, a parent flow)."""
        return await self._loop(run, inputs, record=record)

    async def _run_graph(self, steps: list[Step], context: Context) -> dict[str, Any]:
        from eightflow.compiler.prefect_flow import CompiledWorkflow
        from eightflow.runtime.executor import StepExecutor

        state = self._state
        definition = WorkflowDefinition(name=self.definition.name, steps=tuple(steps))
        executor = StepExecutor(definition, state.run, context.to_dict())
        outcome = await CompiledWorkflow(definition, self.version).run_steps(executor)
        for step in steps:
            state.records.append(state.run.records[step.name])
        if outcome.fatal is not None:
            raise outcome.fatal
        merged: dict[str, Any] = {}
        for values in executor.outputs.values():
            merged.update(values)
        return merged

    @property
    def _state(self) -> LoopState:
        state = loop_state.get()
        if state is None:
            raise WorkflowError("plan_next_steps/execute_steps run only inside execute()")
        return state

    def planning_variables(self, context: Context, state: LoopState) -> dict[str, Any]:
        """The planning prompt's variables: a document excerpt, the registry, the state."""
        document = str(context.get("document", ""))
        return {
            "document": document[:6000],
            "registry": json.dumps(self.step_factory.describe(), indent=1),
            "state": json.dumps(
                {
                    "round": len(state.rounds),
                    # The planner sees an excerpt; it needs the whole document's size.
                    "document_words": len(document.split()),
                    "document_chars": len(document),
                    "available": sorted(k for k in context if k != "document_info"),
                    "executed": state.executed,
                    "feedback": state.feedback,
                },
                indent=1,
            ),
        }

    async def _loop(
        self,
        run: RunState,
        inputs: dict[str, Any],
        body: Callable[[Any], Awaitable[Any]] | None = None,
        *,
        publish: bool = True,
        record: bool = True,
    ) -> WorkflowResult:
        """Run the loop's body in the current flow run, then build, record and publish.

        State is per run (a context variable, which each asyncio task copies), so one
        workflow object can serve many documents at once in a batch.
        """
        state = LoopState(self, run, inputs)
        token, scope = loop_state.set(state), current_scope.set(state)
        try:
            return await self._loop_body(
                state, body or _seed_body(type(self)), publish=publish, record=record
            )
        finally:
            current_scope.reset(scope)
            loop_state.reset(token)

    async def _loop_body(
        self,
        state: LoopState,
        body: Callable[[Any], Awaitable[Any]],
        *,
        publish: bool,
        record: bool,
    ) -> WorkflowResult:
        from eightflow.compiler.artifacts import publish_run
        from eightflow.workflow import build_result

        run, inputs = state.run, state.inputs
        started = datetime.now(UTC)
        await asyncio.to_thread(lambda: self.model)  # import litellm before round 1, not in it
        fatal: WorkflowError | None = None
        value: Any = None
        try:
            async with asyncio.timeout(self.definition.timeout_seconds):
                value = await body(self)
        except _Stop as exc:
            state.stop_reason = exc.message
        except TimeoutError:
            state.stop_reason = f"timeout ({self.definition.timeout_seconds} s) reached"
        except BudgetExceeded as exc:
            state.stop_reason = f"budget: {exc.message}"
        except WorkflowError as exc:
            cause = exc.original if isinstance(exc.original, WorkflowError) else exc
            if isinstance(cause, BudgetExceeded):
                state.stop_reason = f"budget: {cause.message}"
            else:
                fatal = exc
        if isinstance(value, WorkflowResult):  # the body delegated to super().execute()
            return value
        context = state.context if state.context is not None else Context(inputs)
        outputs = dict(value) if isinstance(value, Mapping) else self.create_result(context)
        run.records = {r.name: r for r in state.records}
        shadow = WorkflowDefinition(
            name=self.definition.name,
            steps=tuple(Step(name=r.name, handler=_noop) for r in state.records)
            or (Step(name="plan-1", handler=_noop),),
        )
        result = build_result(shadow, run, {"all": outputs}, fatal, started)
        result.steps = list(state.records)
        result.outputs = {k: v for k, v in outputs.items() if not k.startswith("_plan_")}
        result.planning = [r.model_dump() for r in state.rounds]
        if state.stop_reason and fatal is None:
            result.status, result.error = "stopped", state.stop_reason
            result.error_type = "BoundReached"
        result.inputs = {k: str(v)[:200] for k, v in inputs.items() if k != "document_info"}
        from eightflow.observe.planning import planning_report

        if publish:
            await publish_run(shadow, result, extra={"planning": planning_report(self, result)})
        if record:
            await self.record(result, run, inputs)
        return result

    async def _planning_round(
        self, plan_body: Callable[[Any, Context], Awaitable[list[Step]]], context: Context
    ) -> list[Step]:
        """One round: the body runs as a Prefect task; a rejected plan goes back to it."""
        state = self._state
        state.context = context
        if len(state.rounds) >= self.max_iterations:
            raise _Stop(f"max_iterations ({self.max_iterations}) reached")
        number = len(state.rounds) + 1
        record = PlanningRound(round=number, prompt=self.prompts.get(self.planning_prompt).ref)
        state.rounds.append(record)
        t0 = time.perf_counter()
        state.feedback = []
        try:
            for attempt in range(self.max_replans + 1):
                record.replans = attempt
                state.last_plan = None
                answer = await self._plan_task(plan_body, context, number, attempt)
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
            record.error = f"no acceptable plan after {self.max_replans + 1} tries"
            raise WorkflowError(record.error)
        finally:
            record.duration_ms = (time.perf_counter() - t0) * 1000

    async def _plan_task(
        self,
        plan_body: Callable[[Any, Context], Awaitable[list[Step]]],
        context: Context,
        number: int,
        attempt: int,
    ) -> list[Step] | PlanError:
        """The planning call runs as a step of its own, so it is a Prefect task, traced."""
        key = f"_plan_{number}_{attempt}"

        async def plan_handler(ctx: Context) -> StepResult:
            try:
                steps = list(await plan_body(self, context))
            except PlanError as exc:
                return StepResult(**{key: exc})
            return StepResult(**{key: steps})

        name = f"plan-{number}" + (f"-retry{attempt}" if attempt else "")
        outputs = await self._run_graph([Step(name=name, handler=plan_handler)], context)
        answer: list[Step] | PlanError = outputs[key]
        return answer


def _bind_loop_methods(cls: type[DynamicWorkflow]) -> None:
    """Wrap the loop methods a class defines, so a user's seed loop runs as a bounded run.

    ``execute`` becomes: start (or join) a flow run and run the body in it; the body's own
    code is kept as ``__wrapped__``. ``plan_next_steps`` becomes a planning round (a task,
    with re-planning); ``is_complete`` also answers True once a bound is reached.
    """
    own = vars(cls)
    if "execute" in own and not hasattr(own["execute"], "__wrapped__"):
        body = own["execute"]

        @functools.wraps(body)
        async def execute(
            self: DynamicWorkflow,
            *,
            raise_on_failure: bool = True,
            model: str | None = None,
            **inputs: Any,
        ) -> WorkflowResult:
            values, label = _normalise_inputs({**self.inputs, **inputs})
            run = self.new_run(model, label)
            result = await self.run_in_flow(run, values, lambda: self._loop(run, values, body))
            if raise_on_failure and not result.ok:
                raise WorkflowFailed(result.error or result.status, result=result)
            return result

        cls.execute = execute  # type: ignore[method-assign]
    if "plan_next_steps" in own and not hasattr(own["plan_next_steps"], "__wrapped__"):
        plan_body = own["plan_next_steps"]

        @functools.wraps(plan_body)
        async def plan_next_steps(self: DynamicWorkflow, context: Context) -> list[Step]:
            return await self._planning_round(plan_body, context)

        cls.plan_next_steps = plan_next_steps  # type: ignore[method-assign]
    if "is_complete" in own and not hasattr(own["is_complete"], "__wrapped__"):
        done = own["is_complete"]

        @functools.wraps(done)
        def is_complete(self: DynamicWorkflow, context: Context) -> bool:
            state = loop_state.get()
            if state is None:
                return bool(done(self, context))
            state.context = context
            if state.stop_reason is not None or done(self, context):
                return True
            if len(state.rounds) >= self.max_iterations:
                state.stop_reason = (
                    f"max_iterations ({self.max_iterations}) reached before the loop was complete"
                )
            elif len(state.executed) >= self.max_steps:
                state.stop_reason = f"max_steps ({self.max_steps}) reached"
            return state.stop_reason is not None

        cls.is_complete = is_complete  # type: ignore[method-assign]


def _seed_body(cls: type[DynamicWorkflow]) -> Callable[[Any], Awaitable[Any]]:
    """The loop's own code: the nearest class's ``execute`` as written."""
    body: Callable[[Any], Awaitable[Any]] = cls.execute.__wrapped__  # type: ignore[attr-defined]
    return body


class _Stop(WorkflowError):
    """A hard bound was reached."""


async def _noop(context: Context) -> StepResult:
    return StepResult()


_bind_loop_methods(DynamicWorkflow)
