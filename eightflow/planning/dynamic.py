"""Dynamic workflows: a model plans the next steps from a registry of step types.

``DynamicWorkflow`` is a :class:`eightflow.planning.driver.Planner`: each round asks the
model (prompt ``workflow_planning``) for a plan in a JSON schema; the step factory checks
it against the registry (known types, inputs available, nothing done twice) and a bad plan
is sent back with the errors, at most ``max_replans`` times. The accepted steps run as
Prefect tasks, concurrently where their inputs allow; their outputs join the context and
the loop goes on until ``is_complete``. Hard bounds (iterations, steps, budget, time) end
the run with the reason. The run itself is the pipeline's (:mod:`eightflow.pipeline`), so
review rules, the ledger, artifacts (with the planning rounds and the graph executed),
spans and target events apply as to any run. The registry and the plan check live in
:mod:`eightflow.planning.step_factory`.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, ClassVar

from eightflow.definition import ReviewRule, Step, WorkflowDefinition
from eightflow.pipeline.driver import Driver, Granularity
from eightflow.planning.driver import (
    PlannerDriver,
    bounded_completion,
    current_loop,
    planning_round,
    run_planned_steps,
)
from eightflow.planning.step_factory import (
    LoopState,
    Plan,
    PlanError,
    PlannedStep,
    PlanningRound,
    StepFactory,
    StepType,
)
from eightflow.runtime.context import Context
from eightflow.runtime.records import WorkflowResult
from eightflow.workflow import Workflow

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
    the planning prompt for steps from the registry. A subclass may override either with its
    own loop (plan, ``execute_steps``, ``context.update``). The pipeline's
    :class:`PlannerDriver` runs that loop as a Prefect flow run with one planning task per
    round and a task per planned step, recorded in the ledger like any run.

    On an instance, ``execute`` starts that run (``execute(raise_on_failure=False,
    **inputs)``, as for any workflow), and ``plan_next_steps`` and ``is_complete`` are the
    run's: a traced, re-planned round around the class's ``plan_next_steps`` (a rejected
    plan is sent back with its problems, up to ``max_replans`` times), and the class's
    ``is_complete`` or a bound reached (``max_iterations`` rounds, ``max_steps`` steps; the
    budget and ``timeout_seconds`` end the loop too, and the result says ``stopped`` and
    why). The class's methods stay the code their author wrote.
    """

    max_iterations: ClassVar[int] = 4
    max_steps: ClassVar[int] = 12
    max_replans: ClassVar[int] = 2
    planning_prompt: ClassVar[str] = "workflow_planning"
    timeout_seconds: ClassVar[float | None] = None
    max_cost_usd: ClassVar[float | None] = None
    max_tokens: ClassVar[int | None] = None
    #: Review rules on the registry's steps; a rule applies when its step was planned.
    review_rules: ClassVar[tuple[ReviewRule, ...]] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cls = type(self)
        # The loop's calls on ``self``: the run's entry and its bounded planner calls.
        vars(self).update(
            execute=partial(Workflow.execute, self),
            plan_next_steps=partial(planning_round, cls.plan_next_steps, self),
            is_complete=partial(bounded_completion, cls.is_complete, self),
        )

    def step_types(self) -> list[StepType]:
        raise NotImplementedError(f"{type(self).__name__} must implement step_types()")

    @property
    def step_factory(self) -> StepFactory:
        if not hasattr(self, "_factory"):
            self._factory = StepFactory(self.step_types())
        return self._factory

    def define(self) -> WorkflowDefinition:
        """Name, limits, review rules and version; the registry's types stand in as steps.

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
            review=self.review_rules,
        )

    def driver(self, granularity: Granularity = "step") -> Driver:
        """The planner's driver, running this class's loop (its ``execute``)."""
        return PlannerDriver(self, type(self).execute)

    # -- the seed's loop (the planner) -------------------------------------------------------

    async def plan_next_steps(self, context: Context) -> list[Step]:
        """Ask the planning prompt for the next steps; each call is a traced, re-planned round."""
        planning_prompt = self.prompts.get(self.planning_prompt)
        plan = await self.model.generate(planning_prompt, context)
        return self.step_factory.create_steps(plan)

    async def execute(self, **inputs: Any) -> WorkflowResult:
        """Plan and run rounds until ``is_complete``; return the run's result.

        This is the loop the run's driver runs; on an instance, ``execute`` starts the run
        and takes ``raise_on_failure``, ``model`` and the workflow inputs.
        """
        context = Context()

        while not self.is_complete(context):
            next_steps = await self.plan_next_steps(context)
            results = await self.execute_steps(next_steps, context)
            context.update(results)

        return self.create_result(context)  # type: ignore[return-value]

    async def execute_steps(self, steps: list[Step], context: Context) -> dict[str, Any]:
        """Run the planned steps as Prefect tasks, concurrently where independent."""
        return await run_planned_steps(self, steps, context)

    def is_complete(self, context: Context) -> bool:
        """Done when the planner says so; subclasses may add a criterion."""
        return current_loop().planner_done

    def create_result(self, context: Context) -> dict[str, Any]:
        return {k: v for k, v in context.items() if k not in current_loop().inputs}

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
