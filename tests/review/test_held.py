"""A run that suspends for review keeps its result, and started again runs nothing twice.

In one flow run on Prefect's API (the test server): the run's result is kept as the flow
run's input, the run is then made to look started again after a suspension (its pause key
used), and the pipeline takes the kept result (same run id, same calls) instead of running
its steps. The whole path on a real stack is ``tests/review/test_queue_e2e.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from prefect import flow
from prefect.context import FlowRunContext

from eightflow import Step, StepResult, Workflow, WorkflowDefinition
from eightflow.pipeline.run import RunPipeline
from eightflow.review.held import held_result, hold, resumed_after_suspension
from eightflow.store.ledger import default_ledger

pytestmark = pytest.mark.prefect


class Counted(Workflow):
    ran = 0

    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(name="counted", steps=[Step(name="count", handler=self.count)])

    async def count(self, context: Any) -> StepResult:
        Counted.ran += 1
        return StepResult(count=Counted.ran)


def suspended_once() -> None:
    """What Prefect records when a run suspended under a key and starts again."""
    ctx = FlowRunContext.get()
    assert ctx is not None and ctx.flow_run is not None
    ctx.flow_run.empirical_policy.pause_keys = {"review-abc-suspended"}


async def test_a_run_started_again_takes_its_kept_result(home: Any) -> None:
    Counted.ran = 0
    workflow = Counted()

    @flow
    async def twice() -> tuple[Any, Any, bool, Any]:
        first = await RunPipeline(workflow).run(workflow.new_run(None, None), {})
        nothing_yet = await held_result()  # never suspended: nothing is read
        await hold(first.result)
        suspended_once()
        second = await RunPipeline(workflow).run(workflow.new_run(None, None), {})
        return first.result, second.result, resumed_after_suspension(), nothing_yet

    first, second, resumed, nothing_yet = await twice()
    assert nothing_yet is None and resumed
    assert Counted.ran == 1  # the step ran once
    assert second.run_id == first.run_id
    assert second.outputs == {"count": 1}
    assert [s.name for s in second.steps] == ["count"]
    rows = default_ledger().query("SELECT run_id FROM runs")
    assert {r["run_id"] for r in rows} == {first.run_id}  # one run in the ledger


async def test_a_second_hold_keeps_the_first(home: Any) -> None:
    Counted.ran = 0
    workflow = Counted()

    @flow
    async def held_twice() -> Any:
        first = await RunPipeline(workflow).run(workflow.new_run(None, None), {})
        await hold(first.result)
        later = first.result.model_copy(update={"run_id": "someone-else"})
        await hold(later)
        suspended_once()
        return first.result.run_id, await held_result()

    run_id, kept = await held_twice()
    assert kept is not None and kept.run_id == run_id


async def test_the_outputs_review_judges_come_back_typed(home: Any) -> None:
    """Kept as JSON, a reviewed output is its schema's object again on the restart, so a
    rule sees what it saw before the suspension."""
    from pydantic import BaseModel

    from eightflow import ReviewRule

    class Verdict(BaseModel):
        label: str
        confidence: float

    class Judged(Workflow):
        def define(self) -> WorkflowDefinition:
            rule = ReviewRule(name="low", step="judge", output="verdict", confidence_below=0.5,
                              output_schema=Verdict, enabled=False)  # fmt: skip
            steps = [Step(name="judge", handler=self.judge)]
            return WorkflowDefinition(name="judged", steps=steps, review=[rule])

        async def judge(self, context: Any) -> StepResult:
            return StepResult(verdict=Verdict(label="fine", confidence=0.9), other={"a": 1})

    workflow = Judged()

    @flow
    async def restarted() -> Any:
        first = await RunPipeline(workflow).run(workflow.new_run(None, None), {})
        await hold(first.result)
        suspended_once()
        return (await RunPipeline(workflow).run(workflow.new_run(None, None), {})).result

    again = await restarted()
    assert isinstance(again.outputs["verdict"], Verdict)
    assert again.outputs["other"] == {"a": 1}  # not judged: stays data
