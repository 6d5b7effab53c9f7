"""The seed's dynamic-workflow sample, as written, on eightflow's API and the embedded planner.

The class body below is the seed's, word for word. Only the imports differ (eightflow's
``DynamicWorkflow`` stands where the seed's sample names its base class) and a registry of
step types is added in a subclass. The run it makes is still a Prefect flow run with a task
per planning round and per step, recorded in the ledger and bounded like any dynamic run.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, List

import pytest
from eightflow_app.flows.document_triage import DocumentTriageWorkflow

from eightflow import Context, Step, StepResult, StepType, WorkflowMonitor, WorkflowResult
from eightflow import DynamicWorkflow as Workflow
from eightflow.planning.dynamic import Plan
from eightflow.store.ledger import default_ledger
from tests.support.fake_model import FakeModel

pytestmark = pytest.mark.prefect

TRIAGE = Path(__file__).resolve().parents[2] / "examples" / "triage"


# ---- the seed, verbatim --------------------------------------------------------------------
class DynamicWorkflow(Workflow):
    async def plan_next_steps(self, context: Context) -> List[Step]:
        planning_prompt = self.prompts.get("workflow_planning")
        plan = await self.model.generate(planning_prompt, context)
        return self.step_factory.create_steps(plan)

    async def execute(self) -> WorkflowResult:
        context = Context()

        while not self.is_complete(context):
            next_steps = await self.plan_next_steps(context)
            results = await self.execute_steps(next_steps, context)
            context.update(results)

        return self.create_result(context)


# ---- end of the seed -----------------------------------------------------------------------


class NotesWorkflow(DynamicWorkflow):
    """The seed's loop with a registry: what the planner may choose from."""

    name = "seed_dynamic"

    def step_types(self) -> list[StepType]:
        return [
            StepType(
                name="summarize",
                description="A short summary of the document.",
                inputs=("document",),
                outputs=("summary",),
                handler=self.summarize,
            ),
            StepType(
                name="flag_language",
                description="The document's language, for documents not in English.",
                inputs=("document",),
                outputs=("language",),
                handler=self.flag_language,
            ),
        ]

    async def summarize(self, context: Context) -> StepResult:
        first = context.document.split(".")[0].strip()
        return StepResult(summary=first + ".")

    def flag_language(self, context: Context) -> StepResult:
        return StepResult(language={"code": "?"})


DOCUMENT = (
    "The harbour committee met on Tuesday to review the new ferry timetable. Members agreed "
    "that the early crossing should run all year, and asked the operator for a cost estimate "
    "before the next meeting. The cycle club will publish the changes on its website."
)


async def test_the_seed_sample_runs_as_written_on_the_embedded_planner(home: Any) -> None:
    result = await NotesWorkflow(document=DOCUMENT).execute()

    assert isinstance(result, WorkflowResult)
    assert result.status == "completed", result.error
    assert result.outputs == {"summary": DOCUMENT.split(".")[0] + "."}
    planning = result.planning or []
    assert planning[0]["accepted"] == ["summarize"]
    assert planning[0]["prompt"] == "workflow_planning@v1"
    assert planning[-1]["done"] is True
    names = [s.name for s in result.steps]
    assert names[:2] == ["plan-1", "summarize"] and names[-1] == f"plan-{len(planning)}"
    # every round and step is a Prefect task of one flow run, named apart from flows/
    assert result.flow_run_id is not None
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        flow_run = await client.read_flow_run(result.flow_run_id)
        flow = await client.read_flow(flow_run.flow_id)
        run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
        tasks = await client.read_task_runs(flow_run_filter=run_filter)
        artifacts = await client.read_artifacts(flow_run_filter=run_filter)
    assert flow.name == "seed-dynamic"
    assert flow_run.state is not None and flow_run.state.is_completed()
    assert {"plan-1", "summarize"} <= {t.name for t in tasks}
    keys = {a.key for a in artifacts}
    assert {"seed-dynamic-report", "seed-dynamic-trace", "seed-dynamic-planning"} <= keys
    # and the ledger has the run with its steps
    recorded = default_ledger().run(result.run_id)
    assert recorded is not None and recorded["workflow"] == "seed_dynamic"


async def test_the_seeds_monitor_observes_the_seeds_dynamic_workflow(home: Any) -> None:
    monitor = WorkflowMonitor()
    result = await monitor.observe_workflow(NotesWorkflow(), document=DOCUMENT)
    assert result.ok and monitor.metrics.runs == 1 and monitor.metrics.success_rate == 1.0
    [trace] = monitor.tracer.traces
    assert trace.workflow == "seed_dynamic" and "summarize" in [r["step"] for r in trace.rows]


async def test_context_in_the_seed_loop_sees_the_inputs(home: Any) -> None:
    seen: list[dict[str, Any]] = []

    class Peek(NotesWorkflow):
        def is_complete(self, context: Context) -> bool:
            seen.append(dict(context))
            return super().is_complete(context)

    await Peek(document=DOCUMENT, audience="club").execute()
    assert seen[0] == {"document": DOCUMENT, "audience": "club"}
    assert seen[-1]["summary"].startswith("The harbour committee")


async def test_an_execute_that_delegates_to_super_is_one_run(home: Any) -> None:
    class Delegating(NotesWorkflow):
        async def execute(self, **kwargs: Any) -> WorkflowResult:
            return await super().execute(**kwargs)

    result = await Delegating(document=DOCUMENT).execute()
    assert result.ok and result.outputs["summary"].startswith("The harbour committee")
    rows = default_ledger().query("SELECT run_id FROM runs WHERE workflow = ?", ("seed_dynamic",))
    assert [r["run_id"] for r in rows] == [result.run_id]


def plan(*steps: str, done: bool = False) -> str:
    return json.dumps(
        {"rationale": "r", "steps": [{"type": s, "reason": "r"} for s in steps], "done": done}
    )


@pytest.fixture
def planner(fake_model: FakeModel, monkeypatch: pytest.MonkeyPatch) -> FakeModel:
    monkeypatch.setenv("EIGHTFLOW_MODEL", "fake/model")
    return fake_model


async def test_the_planning_prompt_is_rendered_from_the_context(planner: FakeModel) -> None:
    planner.enqueue(plan("summarize"), plan(done=True))
    await NotesWorkflow(document=DOCUMENT).execute()
    [first, second] = planner.calls_for("workflow_planning")
    assert '"name": "summarize"' in first.user_text  # the registry
    assert '"round": 1' in first.user_text and "harbour committee" in first.user_text
    assert '"executed": [\n  "summarize"\n ]' in second.user_text  # the state moved on
    assert '"summary"' in second.user_text


async def test_a_rejected_plan_goes_back_to_the_seed_body_with_its_problems(
    planner: FakeModel,
) -> None:
    planner.enqueue(plan("translate"), plan("summarize"), plan(done=True))
    result = await NotesWorkflow(document=DOCUMENT).execute()
    first = (result.planning or [])[0]
    assert first["replans"] == 1 and first["rejected"][0]["step"] == "translate"
    assert "unknown step type" in planner.calls_for("workflow_planning")[1].user_text
    assert result.ok and "summary" in result.outputs


class Endless(NotesWorkflow):
    max_iterations = 3


@pytest.mark.parametrize(
    ("workflow", "answers", "reason"),
    [
        # the planner never says done: the seed's while-loop ends at max_iterations
        (Endless, [plan()] * 5, "max_iterations (3)"),
        # more steps than max_steps allows
        (
            type("Few", (NotesWorkflow,), {"max_steps": 1}),
            [plan("summarize", "flag_language")],
            "max_steps (1)",
        ),
    ],
    ids=["iterations", "steps"],
)
async def test_bounds_end_the_seed_loop_with_the_reason(
    planner: FakeModel, workflow: type[NotesWorkflow], answers: list[str], reason: str
) -> None:
    planner.enqueue(*answers)
    result = await workflow(document=DOCUMENT).execute(raise_on_failure=False)
    assert result.status == "stopped"
    assert reason in (result.error or "")
    assert default_ledger().run(result.run_id) is not None


async def test_the_budget_ends_the_seed_loop(planner: FakeModel) -> None:
    class Capped(NotesWorkflow):
        max_cost_usd = 1e-9

    planner.enqueue(*[plan("summarize")] * 3)
    result = await Capped(document=DOCUMENT).execute(raise_on_failure=False)
    assert result.status == "stopped"
    assert (result.error or "").startswith("budget")


async def test_the_timeout_ends_the_seed_loop(planner: FakeModel) -> None:
    class Stuck(NotesWorkflow):
        timeout_seconds = 0.5

        async def summarize(self, context: Context) -> StepResult:
            await asyncio.Event().wait()  # never set
            return StepResult()

    planner.enqueue(plan("summarize"))
    result = await Stuck(document=DOCUMENT).execute(raise_on_failure=False)
    assert result.status == "stopped"
    assert "timeout (0.5 s)" in (result.error or "")


@pytest.mark.parametrize(
    "given",
    [
        Plan.model_validate({"steps": [{"type": "summarize"}]}),
        {"steps": [{"type": "summarize"}]},
        '{"steps": [{"type": "summarize"}]}',
    ],
    ids=["plan", "dict", "json"],
)
def test_create_steps_takes_what_the_model_answers(given: Any) -> None:
    """Outside a run nothing is available unless given; inside one, the run's context is."""
    factory = NotesWorkflow().step_factory
    [step] = factory.create_steps(given, available={"document"})
    assert step.name == "summarize" and step.outputs == ("summary",)


OTHER = (
    "The library will open late on Thursdays from next month. Volunteers asked for more "
    "evening hours, and the council agreed to fund them for a year as a trial."
)


async def test_one_instance_runs_twice_at_once(home: Any) -> None:
    workflow = NotesWorkflow()
    first, second = await asyncio.gather(
        workflow.execute(document=DOCUMENT), workflow.execute(document=OTHER)
    )
    assert first.outputs["summary"] == DOCUMENT.split(".")[0] + "."
    assert second.outputs["summary"] == OTHER.split(".")[0] + "."
    assert first.run_id != second.run_id and first.flow_run_id != second.flow_run_id
    assert [s.name for s in first.steps].count("summarize") == 1
    assert [s.name for s in second.steps].count("summarize") == 1


class SeedTriage(DocumentTriageWorkflow):
    """The shipped triage workflow with the seed's two methods pasted over its own."""

    async def plan_next_steps(self, context: Context) -> List[Step]:
        planning_prompt = self.prompts.get("workflow_planning")
        plan = await self.model.generate(planning_prompt, context)
        return self.step_factory.create_steps(plan)

    async def execute(self) -> WorkflowResult:
        context = Context()

        while not self.is_complete(context):
            next_steps = await self.plan_next_steps(context)
            results = await self.execute_steps(next_steps, context)
            context.update(results)

        return self.create_result(context)


@pytest.mark.parametrize(
    "name", ["harbour-cycle-club-faq.md", "tidewater-open-licence.txt", "hinweise-sommerkurs.txt"]
)
async def test_the_shipped_triage_plans_the_same_with_the_seeds_loop(home: Any, name: str) -> None:
    inputs = DocumentTriageWorkflow.inputs_from_path(str(TRIAGE / name))
    shipped = await DocumentTriageWorkflow().execute(**inputs)
    seeded = await SeedTriage().execute(**inputs)
    assert seeded.status == shipped.status == "completed"
    assert [r["accepted"] for r in seeded.planning or []] == [
        r["accepted"] for r in shipped.planning or []
    ]
    assert seeded.outputs.keys() == shipped.outputs.keys()
