"""``Workflow.execute``: results come back as values, runs are independent, names are apart."""

from __future__ import annotations

import asyncio
import pickle

import pytest
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow, document_analysis
from eightflow_app.flows.document_triage import DocumentTriageWorkflow, document_triage_flow

from eightflow import Context, Step, StepResult, Workflow, WorkflowDefinition
from eightflow.errors import StepFailed


class Slow(Workflow):
    """Two steps with a pause between them, so two runs interleave."""

    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(
            name="interleaved",
            steps=[
                Step(name="read", handler=self.read),
                Step(name="echo", handler=self.echo, depends_on=["read"]),
            ],
        )

    async def read(self, context: Context) -> StepResult:
        await asyncio.sleep(0.05)
        return StepResult(text=context.document)

    async def echo(self, context: Context) -> StepResult:
        await asyncio.sleep(0.05)
        return StepResult(echo=f"{context.text.upper()} ({context.tag})")


@pytest.mark.prefect
async def test_one_instance_run_twice_at_once_gives_two_independent_results() -> None:
    workflow = Slow(tag="shared")
    first, second = await asyncio.gather(
        workflow.execute(document="first"), workflow.execute(document="second")
    )
    assert first.outputs == {"text": "first", "echo": "FIRST (shared)"}
    assert second.outputs == {"text": "second", "echo": "SECOND (shared)"}
    assert first.run_id != second.run_id
    assert first.flow_run_id and second.flow_run_id and first.flow_run_id != second.flow_run_id
    assert not hasattr(workflow, "last_result")


@pytest.mark.parametrize(
    ("compiled", "deployable"),
    [
        (DocumentAnalysisWorkflow(), document_analysis),
        (DocumentTriageWorkflow(), document_triage_flow),
    ],
    ids=["document_analysis", "document_triage"],
)
def test_one_workflow_has_one_flow_name_in_cli_runs_and_deployments(
    compiled: Workflow, deployable: object
) -> None:
    assert compiled.as_flow().name == deployable.name  # type: ignore[attr-defined]


@pytest.mark.parametrize("retry", [True, False])
def test_step_failed_carries_retry_as_a_field_that_survives_pickling(retry: bool) -> None:
    failure = StepFailed("boom", step="s", attempt=1, retry=retry)
    assert pickle.loads(pickle.dumps(failure)).retry is retry
