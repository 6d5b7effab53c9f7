"""A deployment's flow whose review times out within seconds, for the stack's e2e tests.

``document_analysis`` gives people an hour; ``tests/review/test_queue_e2e.py`` deploys
this flow on its stack to watch a suspended review reach its deadline.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from pydantic import BaseModel

from eightflow import ReviewRule, Step, StepResult, Workflow, WorkflowDefinition
from eightflow.pipeline.run import flow_return

#: Longer than the e2e stack's grace (3 s), so the run suspends before its deadline.
TIMEOUT_S = 12


class Verdict(BaseModel):
    label: str
    confidence: float


class QuicklyReviewed(Workflow):
    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(
            name="quickly_reviewed",
            steps=[Step(name="judge", handler=self.judge)],
            review=[
                ReviewRule(
                    name="every_verdict",
                    step="judge",
                    output="verdict",
                    always=True,
                    output_schema=Verdict,
                    editable=("label",),
                    timeout_seconds=TIMEOUT_S,
                )
            ],
        )

    async def judge(self, context: Any) -> StepResult:
        return StepResult(verdict=Verdict(label="fine", confidence=0.3))


@flow(name="quickly-reviewed")
async def quickly_reviewed() -> Any:
    """One step, always reviewed, with the default timeout policy (reject)."""
    result = await QuicklyReviewed().execute(raise_on_failure=False)
    return flow_return(result)
