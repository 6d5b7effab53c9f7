"""Dynamic workflows: a model plans the next steps from a registry of step types.

Each round asks the model (prompt ``workflow_planning``) for a plan in a JSON schema; the
step factory checks it against the registry (known types, inputs available, nothing done
twice) and a bad plan is sent back with the errors, at most ``max_replans`` times. The
accepted steps compile to a small graph and run as Prefect tasks, concurrently where their
inputs allow; their outputs join the context and the loop goes on until ``is_complete``.
Hard bounds (iterations, steps, budget, time) end the run with the reason. Every round, its
plan, rationale and what was accepted or rejected, is kept in the result, the ledger and
a markdown artifact with the graph actually executed.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from eightflow.definition import RetryPolicy, Step, WorkflowDefinition
from eightflow.errors import BudgetExceeded, WorkflowError, WorkflowFailed
from eightflow.runtime.context import Context, StepResult, current_scope
from eightflow.runtime.records import WorkflowResult
from eightflow.runtime.run_state import RunState
from eightflow.workflow import Workflow, _normalise_inputs


class StepType(BaseModel):
    """A kind of step the planner may choose: what it needs and what it gives."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    description: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    handler: Callable[..., Any]
    retry_policy: RetryPolicy | None = None
    timeout_seconds: float | None = None
    prompts: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
        }


class PlannedStep(BaseModel):
    type: str = Field(description="A step type name from the registry.")
    reason: str = Field(default="", description="Why this step, for this document.")


class Plan(BaseModel):
    """The planner's answer (the prompt's output schema)."""

    rationale: str = Field(default="", description="Why these steps, in a sentence or two.")
    steps: list[PlannedStep] = Field(default_factory=list)
    done: bool = Field(default=False, description="True when nothing useful is left to do.")


def _as_plan(plan: Mapping[str, Any] | str) -> Plan:
    try:
        if isinstance(plan, str):
            return Plan.model_validate_json(plan)
        return Plan.model_validate(dict(plan))
    except ValueError as exc:
        problems = [{"step": "plan", "problem": str(exc)}]
        raise PlanError(f"not a plan: {exc}", problems=problems) from None


class PlanError(WorkflowError):
    """A plan the registry cannot run; ``problems`` go back to the planner."""

    def __init__(self, message: str = "", *, problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class StepFactory:
    """The registry of step types, and the check that turns a plan into steps."""

    def __init__(self, types: list[StepType]) -> None:
        names = [t.name for t in types]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate step type names in {names}")
        self.types = {t.name: t for t in types}

    def describe(self) -> list[dict[str, Any]]:
        return [t.describe() for t in self.types.values()]

    def create_steps(
        self,
        plan: Plan | Mapping[str, Any] | str,
        available: set[str] | None = None,
        done: set[str] | None = None,
    ) -> list[Step]:
        """Steps for an acceptable plan; :class:`PlanError` listing every problem otherwise.

        ``plan`` is what the planning prompt answers (a :class:`Plan`, or its dict or JSON).
        Inside a dynamic run, ``available`` (the context's names) and ``done`` (the steps
        already run) default to the run's, so the seed's ``create_steps(plan)`` works.
        """
        plan = plan if isinstance(plan, Plan) else _as_plan(plan)
        state = _loop_state.get()
        if state is not None:
            state.last_plan = plan
            if available is None:
                available = set(state.context or state.inputs)
            if done is None:
                done = set(state.executed)
        available, done = available or set(), done or set()
        problems: list[dict[str, str]] = []
        produced = set(available)
        chosen: list[StepType] = []
        for planned in plan.steps:
            kind = self.types.get(planned.type)
            if kind is None:
                problems.append(
                    {
                        "step": planned.type,
                        "problem": "unknown step type; choose from " + ", ".join(self.types),
                    }
                )
                continue
            if planned.type in done or any(c.name == kind.name for c in chosen):
                problems.append({"step": planned.type, "problem": "already done or planned"})
                continue
            missing = [i for i in kind.inputs if i not in produced]
            if missing:
                problems.append(
                    {"step": planned.type, "problem": "missing inputs: " + ", ".join(missing)}
                )
                continue
            present = [o for o in kind.outputs if o in available]
            if present:
                problems.append(
                    {
                        "step": planned.type,
                        "problem": "its outputs are already available: " + ", ".join(present),
                    }
                )
                continue
            rival = next((c.name for c in chosen if set(c.outputs) & set(kind.outputs)), None)
            if rival is not None:
                problems.append(
                    {
                        "step": planned.type,
                        "problem": f"writes the same outputs as {rival} in this plan; choose one",
                    }
                )
                continue
            chosen.append(kind)
            produced.update(kind.outputs)
        if problems:
            raise PlanError(
                "plan rejected: " + "; ".join(f"{p['step']}: {p['problem']}" for p in problems),
                problems=problems,
            )
        return [self._step(kind, chosen, available) for kind in chosen]

    @staticmethod
    def _step(kind: StepType, chosen: list[StepType], available: set[str]) -> Step:
        deps = [
            other.name
            for other in chosen
            if other is not kind and set(other.outputs) & set(kind.inputs) - available
        ]
        return Step(
            name=kind.name,
            handler=kind.handler,
            depends_on=tuple(deps),
            outputs=kind.outputs,
            retry_policy=kind.retry_policy,
            timeout_seconds=kind.timeout_seconds,
            description=kind.description,
        )


class PlanningRound(BaseModel):
    round: int
    prompt: str | None = None
    rationale: str = ""
    plan: list[dict[str, str]] = Field(default_factory=list)
    done: bool = False
    accepted: list[str] = Field(default_factory=list)
    rejected: list[dict[str, str]] = Field(default_factory=list)
    replans: int = 0
    error: str | None = None
    duration_ms: float = 0.0


class DynamicWorkflow(Workflow):
    """A workflow whose steps a model chooses, round by round, within hard bounds.

    ``execute`` and ``plan_next_steps`` are the seed's code, and a subclass may override
    them with its own (the seed's loop, word for word, works). Whatever the loop's body,
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
        """The seed's body; the run makes each call a traced, re-planned round."""
        planning_prompt = self.prompts.get(self.planning_prompt)
        plan = await self.model.generate(planning_prompt, context)
        return self.step_factory.create_steps(plan)

    async def execute(
        self, *, raise_on_failure: bool = True, model: str | None = None, **inputs: Any
    ) -> WorkflowResult:
        """The seed's loop. Its keyword arguments are taken by the run around it."""
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
    def _state(self) -> _LoopState:
        state = _loop_state.get()
        if state is None:
            raise WorkflowError("plan_next_steps/execute_steps run only inside execute()")
        return state

    def planning_variables(self, context: Context, state: _LoopState) -> dict[str, Any]:
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
        state = _LoopState(self, run, inputs)
        token, scope = _loop_state.set(state), current_scope.set(state)
        try:
            return await self._loop_body(
                state, body or _seed_body(type(self)), publish=publish, record=record
            )
        finally:
            current_scope.reset(scope)
            _loop_state.reset(token)

    async def _loop_body(
        self,
        state: _LoopState,
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
            state = _loop_state.get()
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


class _LoopState:
    """One run of a dynamic workflow; also the scope its ``Context()`` objects see."""

    def __init__(self, workflow: DynamicWorkflow, run: RunState, inputs: dict[str, Any]) -> None:
        self.workflow = workflow
        self.run = run
        self.inputs = inputs
        self.context: Context | None = None
        self.rounds: list[PlanningRound] = []
        self.executed: list[str] = []
        self.records: list[Any] = []
        self.feedback: list[dict[str, str]] = []
        self.last_plan: Plan | None = None
        self.planner_done = False
        self.stop_reason: str | None = None

    def prompt_variables(self, prompt_id: str, context: Context) -> dict[str, Any]:
        if prompt_id != self.workflow.planning_prompt.split("@")[0]:
            return {}
        return self.workflow.planning_variables(context, self)


_loop_state: ContextVar[_LoopState | None] = ContextVar("eightflow_dynamic_loop", default=None)


async def _noop(context: Context) -> StepResult:
    return StepResult()


_bind_loop_methods(DynamicWorkflow)
