"""The seed's workflow samples, run from a plain script with eightflow's Python API.

    python examples/seed_workflows.py examples/sample.md

1. the static sample (``DocumentAnalysisWorkflow``, in ``flows/document_analysis.py``),
   run with ``run()``;
2. the same workflow under the seed's ``WorkflowMonitor``, and ``WorkflowTracer.capture_step``
   on one of its steps;
3. the seed's dynamic sample: its ``DynamicWorkflow`` class, as written, with a registry of
   two step types the planner may choose from.

Every run is a Prefect flow run on the local server (started on first use, as the CLI does:
``EIGHTFLOW_AUTO_SERVER``, ``EIGHTFLOW_SERVER_PORT``), so it shows in the UI and in
``eightflow report``. With no API key the embedded offline model answers, and plans.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import List

from eightflow import (
    Context,
    Step,
    StepResult,
    StepType,
    WorkflowMonitor,
    WorkflowResult,
)
from eightflow import (
    DynamicWorkflow as Workflow,  # the seed's sample names its base class Workflow
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # flows/ from a clean clone
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow


# The seed's dynamic sample, as written.
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


class NotesWorkflow(DynamicWorkflow):
    """The seed's loop over a registry: the planner picks what fits the document."""

    name = "notes_dynamic"

    def step_types(self) -> list[StepType]:
        return [
            StepType(
                name="summarize",
                description="A short summary with key points.",
                inputs=("document",),
                outputs=("summary",),
                handler=self.summarize,
                prompts=("summarization",),
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
        summary = await self.model.generate(self.prompts.get("summarization"), context)
        return StepResult(summary=summary.summary)

    def flag_language(self, context: Context) -> StepResult:
        return StepResult(language="not English")


def static_sample(text: str) -> None:
    result = DocumentAnalysisWorkflow(document=text).run()
    print(
        f"static:  {result.status}, {len(result.steps)} steps, summary: "
        f"{result.outputs['summary'][:70]}..."
    )


async def monitored_and_dynamic(text: str) -> None:
    monitor = WorkflowMonitor()
    observed = await monitor.observe_workflow(DocumentAnalysisWorkflow(document=text))
    row = monitor.tracer.capture_step(observed.steps[0], Context(document=text))
    print(
        f"monitor: success rate {monitor.metrics.success_rate:.0%}; first step "
        f"{row['step']} took {row['duration']:.0f} ms, {row['tokens_used']} tokens"
    )

    dynamic = await NotesWorkflow(document=text).execute()
    rounds = [r["accepted"] for r in dynamic.planning or []]
    print(
        f"dynamic: {dynamic.status}, planned {rounds}, summary: "
        f"{dynamic.outputs.get('summary', '')[:70]}..."
    )
    print(f"Prefect UI: {dynamic.ui_url}")


if __name__ == "__main__":
    document = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/sample.md")
    text = document.read_text(encoding="utf-8")
    static_sample(text)  # 1. run(): synchronous
    asyncio.run(monitored_and_dynamic(text))  # 2. and 3.: await execute()
