"""The registry a dynamic workflow plans from, and the check that turns a plan into steps.

``StepType``s say what a planner may choose (name, description, inputs, outputs, handler);
``Plan`` is the planning prompt's answer; ``StepFactory.create_steps`` accepts a plan or
rejects it with every problem listed (:class:`PlanError`), which goes back to the planner.
``LoopState`` is one dynamic run: its rounds, executed steps and bounds; it is also the
scope a ``Context()`` built in the run sees (its inputs, the planning prompt's variables).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from eightflow.definition import RetryPolicy, Step
from eightflow.errors import WorkflowError
from eightflow.runtime.context import Context
from eightflow.runtime.run_state import RunState


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
    """One step of a plan: a step type from the registry, and why the planner chose it."""

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
        already run) default to the run's, so ``create_steps(plan)`` is enough.
        """
        plan = plan if isinstance(plan, Plan) else _as_plan(plan)
        state = loop_state.get()
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


class PlanningPromptSource(Protocol):
    """What a loop state needs of its planner: the planning prompt and its variables."""

    @property
    def planning_prompt(self) -> str: ...

    def planning_variables(self, context: Context, state: LoopState) -> dict[str, Any]: ...


class LoopState:
    """One run of a dynamic workflow; also the scope its ``Context()`` objects see."""

    def __init__(
        self, workflow: PlanningPromptSource, run: RunState, inputs: dict[str, Any]
    ) -> None:
        self.workflow = workflow
        self.run = run
        self.inputs = inputs
        self.context: Context | None = None
        self.rounds: list[PlanningRound] = []
        self.executed: list[str] = []
        self.steps: list[Step] = []  # every step that ran, planning steps included
        self.records: list[Any] = []
        self.feedback: list[dict[str, str]] = []
        self.last_plan: Plan | None = None
        self.planner_done = False
        self.stop_reason: str | None = None

    def prompt_variables(self, prompt_id: str, context: Context) -> dict[str, Any]:
        if prompt_id != self.workflow.planning_prompt.split("@")[0]:
            return {}
        return self.workflow.planning_variables(context, self)


loop_state: ContextVar[LoopState | None] = ContextVar("eightflow_dynamic_loop", default=None)
