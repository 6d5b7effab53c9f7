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
import json
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from eightflow.definition import RetryPolicy, Step, WorkflowDefinition
from eightflow.errors import BudgetExceeded, WorkflowError, WorkflowFailed
from eightflow.runtime.context import Context, StepResult
from eightflow.runtime.records import WorkflowResult
from eightflow.runtime.run_state import RunState
from eightflow.workflow import Workflow, _crashed, _normalise_inputs


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

    def create_steps(self, plan: Plan, available: set[str], done: set[str]) -> list[Step]:
        """Steps for an acceptable plan; :class:`PlanError` listing every problem otherwise."""
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
    """A workflow whose steps a model chooses, round by round, within hard bounds."""

    max_iterations: ClassVar[int] = 4
    max_steps: ClassVar[int] = 12
    max_replans: ClassVar[int] = 2
    planning_prompt: ClassVar[str] = "workflow_planning"

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
        )

    # -- the seed's loop -------------------------------------------------------------------

    async def plan_next_steps(self, context: Context) -> list[Step]:
        """One planning round (re-planning on rejected plans); steps to run next."""
        state = self._state
        number = len(state.rounds) + 1
        record = PlanningRound(round=number)
        state.rounds.append(record)
        t0 = time.perf_counter()
        feedback: list[dict[str, str]] = []
        prompt = self.prompts.get(self.planning_prompt)
        record.prompt = prompt.ref
        try:
            for attempt in range(self.max_replans + 1):
                record.replans = attempt
                plan = await self._ask_planner(prompt, context, feedback, number, attempt)
                record.rationale, record.done = plan.rationale, plan.done
                record.plan = [p.model_dump() for p in plan.steps]
                if plan.done and not plan.steps:
                    state.planner_done = True
                    return []
                try:
                    steps = self.step_factory.create_steps(plan, set(context), set(state.executed))
                except PlanError as exc:
                    record.rejected.extend(exc.problems)
                    feedback = exc.problems
                    continue
                record.accepted = [s.name for s in steps]
                state.planner_done = plan.done
                return steps
            record.error = f"no acceptable plan after {self.max_replans + 1} tries"
            raise WorkflowError(record.error)
        finally:
            record.duration_ms = (time.perf_counter() - t0) * 1000

    async def _ask_planner(
        self,
        prompt: Any,
        context: Context,
        feedback: list[dict[str, str]],
        number: int,
        attempt: int,
    ) -> Plan:
        """The planning call runs as a step of its own, so it is a Prefect task, traced."""
        state = self._state
        variables = {
            "document": str(context.get("document", ""))[:6000],
            "registry": json.dumps(self.step_factory.describe(), indent=1),
            "state": json.dumps(
                {
                    "round": number,
                    # The planner sees an excerpt; it needs the whole document's size.
                    "document_words": len(str(context.get("document", "")).split()),
                    "document_chars": len(str(context.get("document", ""))),
                    "available": sorted(k for k in context if k != "document_info"),
                    "executed": state.executed,
                    "feedback": feedback,
                },
                indent=1,
            ),
        }

        async def plan_handler(ctx: Context) -> StepResult:
            answer = await self.model.generate(prompt, **variables)
            return StepResult(**{f"_plan_{number}_{attempt}": answer})

        name = f"plan-{number}" + (f"-retry{attempt}" if attempt else "")
        outputs = await self._run_graph([Step(name=name, handler=plan_handler)], context)
        plan: Plan = outputs[f"_plan_{number}_{attempt}"]
        return plan

    async def execute_steps(self, steps: list[Step], context: Context) -> dict[str, Any]:
        """Run the planned steps as Prefect tasks, concurrently where independent."""
        state = self._state
        if len(state.executed) + len(steps) > self.max_steps:
            raise _Stop(f"max_steps ({self.max_steps}) would be exceeded")
        outputs = await self._run_graph(steps, context)
        state.executed.extend(s.name for s in steps)
        return outputs

    def is_complete(self, context: Context) -> bool:
        """Done when the planner says so; subclasses may add a criterion."""
        return self._state.planner_done

    def create_result(self, context: Context) -> dict[str, Any]:
        return {k: v for k, v in context.items() if k not in self._state.inputs}

    # -- running ---------------------------------------------------------------------------

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

    async def execute(
        self, *, raise_on_failure: bool = True, model: str | None = None, **inputs: Any
    ) -> WorkflowResult:
        values, label = _normalise_inputs({**self.inputs, **inputs})
        run = self.new_run(model, label)
        from eightflow.compiler.prefect_flow import in_flow_run

        if in_flow_run():
            result = await self._loop(run, values)
        else:
            from prefect import flow

            @flow(
                name=self.definition.name.replace("_", "-"),
                version=self.version,
                persist_result=False,
            )
            async def dynamic_flow() -> dict[str, Any]:
                outcome = await self._loop(run, values)
                return {"run_id": outcome.run_id, "status": outcome.status}

            await dynamic_flow(return_state=True)
            result = self.last_result or _crashed(run)
        if raise_on_failure and not result.ok:
            raise WorkflowFailed(result.error or result.status, result=result)
        return result

    @property
    def _state(self) -> _LoopState:
        state = _loop_state.get()
        if state is None:
            raise WorkflowError("plan_next_steps/execute_steps run only inside execute()")
        return state

    async def _loop(
        self, run: RunState, inputs: dict[str, Any], *, publish: bool = True, record: bool = True
    ) -> WorkflowResult:
        """The seed's loop, in the current flow run. State is per run (a context variable),
        so one workflow object can serve many documents at once in a batch."""
        token = _loop_state.set(_LoopState(run=run, inputs=set(inputs)))
        try:
            return await self._loop_body(run, inputs, publish=publish, record=record)
        finally:
            _loop_state.reset(token)

    async def _loop_body(
        self, run: RunState, inputs: dict[str, Any], *, publish: bool, record: bool
    ) -> WorkflowResult:
        from eightflow.compiler.artifacts import publish_run
        from eightflow.workflow import build_result

        started = datetime.now(UTC)
        await asyncio.to_thread(lambda: self.model)  # import litellm before round 1, not in it
        context = Context(inputs)
        fatal: WorkflowError | None = None
        stop_reason: str | None = None
        try:
            async with asyncio.timeout(self.definition.timeout_seconds):
                while not self.is_complete(context):
                    if len(self._state.rounds) >= self.max_iterations:
                        raise _Stop(
                            f"max_iterations ({self.max_iterations}) reached before "
                            "the planner said done"
                        )
                    next_steps = await self.plan_next_steps(context)
                    if next_steps:
                        results = await self.execute_steps(next_steps, context)
                        context.update(results)
        except _Stop as exc:
            stop_reason = exc.message
        except TimeoutError:
            stop_reason = f"timeout ({self.definition.timeout_seconds} s) reached"
        except BudgetExceeded as exc:
            stop_reason = f"budget: {exc.message}"
        except WorkflowError as exc:
            cause = exc.original if isinstance(exc.original, WorkflowError) else exc
            if isinstance(cause, BudgetExceeded):
                stop_reason = f"budget: {cause.message}"
            else:
                fatal = exc
        outputs = self.create_result(context)
        run.records = {r.name: r for r in self._state.records}
        shadow = WorkflowDefinition(
            name=self.definition.name,
            steps=tuple(Step(name=r.name, handler=_noop) for r in self._state.records)
            or (Step(name="plan-1", handler=_noop),),
        )
        result = build_result(shadow, run, {"all": outputs}, fatal, started)
        result.steps = list(self._state.records)
        result.outputs = {k: v for k, v in outputs.items() if not k.startswith("_plan_")}
        result.planning = [r.model_dump() for r in self._state.rounds]
        if stop_reason and fatal is None:
            result.status, result.error, result.error_type = "stopped", stop_reason, "BoundReached"
        result.inputs = {k: str(v)[:200] for k, v in inputs.items() if k != "document_info"}
        from eightflow.observe.planning import planning_report

        if publish:
            await publish_run(shadow, result, extra={"planning": planning_report(self, result)})
        if record:
            await self.record(result, run, inputs)
        self.last_result = result
        return result


class _Stop(WorkflowError):
    """A hard bound was reached."""


class _LoopState:
    def __init__(self, run: RunState, inputs: set[str]) -> None:
        self.run = run
        self.inputs = inputs
        self.rounds: list[PlanningRound] = []
        self.executed: list[str] = []
        self.records: list[Any] = []
        self.planner_done = False


_loop_state: ContextVar[_LoopState | None] = ContextVar("eightflow_dynamic_loop", default=None)


async def _noop(context: Context) -> StepResult:
    return StepResult()
