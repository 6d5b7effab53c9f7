"""DynamicWorkflow: plans become steps, bad plans are re-planned, bounds stop the loop."""

from __future__ import annotations

from typing import Any

import pytest

from eightflow import Context, StepResult
from eightflow.planning.dynamic import DynamicWorkflow, StepType
from tests.support.fake_model import FakeModel

pytestmark = pytest.mark.prefect


class Toy(DynamicWorkflow):
    name = "toy_dynamic"
    max_iterations = 3

    def step_types(self) -> list[StepType]:
        return [
            StepType(
                name="count",
                description="count words",
                inputs=("document",),
                outputs=("words",),
                handler=self.count,
            ),
            StepType(
                name="double",
                description="double the count",
                inputs=("words",),
                outputs=("doubled",),
                handler=self.double,
            ),
            StepType(
                name="shout",
                description="upper-case the text",
                inputs=("document",),
                outputs=("loud",),
                handler=self.shout,
            ),
        ]

    async def count(self, context: Context) -> StepResult:
        return StepResult(words=len(context.document.split()))

    async def double(self, context: Context) -> StepResult:
        return StepResult(doubled=context.words * 2)

    async def shout(self, context: Context) -> StepResult:
        return StepResult(loud=context.document.upper())


def plan(*steps: str, done: bool = False) -> dict[str, Any]:
    return {
        "rationale": f"plan {steps}",
        "steps": [{"type": s, "reason": "r"} for s in steps],
        "done": done,
    }


@pytest.fixture
def planner(fake_model: FakeModel, monkeypatch: pytest.MonkeyPatch) -> FakeModel:
    monkeypatch.setenv("EIGHTFLOW_MODEL", "fake/model")
    return fake_model


async def test_plan_runs_planned_steps_with_dependencies(planner: FakeModel) -> None:
    planner.enqueue(plan("count", "double", "shout"), plan(done=True))
    result = await Toy(document="one two three").execute()
    assert result.status == "completed"
    assert result.outputs == {"words": 3, "doubled": 6, "loud": "ONE TWO THREE"}
    double = result.step("double")
    count = result.step("count")
    assert count.finished is not None and double.started is not None
    assert count.finished <= double.started
    assert [r["accepted"] for r in result.planning or []] == [["count", "double", "shout"], []]
    assert json_has_planning(result)


def json_has_planning(result: Any) -> bool:
    import json

    data = json.loads(result.to_json())
    return len(data["planning"]) == 2 and data["planning"][0]["prompt"] == "workflow_planning@v1"


async def test_invalid_plan_is_replanned_with_feedback(planner: FakeModel) -> None:
    planner.enqueue(plan("nonsense", "double"), plan("count"), plan(done=True))
    result = await Toy(document="a b").execute()
    first = (result.planning or [])[0]
    assert first["replans"] == 1
    assert {r["step"] for r in first["rejected"]} == {"nonsense", "double"}
    assert first["accepted"] == ["count"]
    # the re-plan request carried the problems back to the planner
    state = planner.history[1].user_text
    assert "unknown step type" in state and "missing inputs: words" in state
    assert result.outputs == {"words": 2}


async def test_bounds_stop_a_planner_that_never_says_done(planner: FakeModel) -> None:
    planner.enqueue(plan("count"), plan("shout"), plan("double"), plan("count"))
    result = await Toy(document="x").execute(raise_on_failure=False)
    assert result.status == "stopped"
    assert "max_iterations (3)" in (result.error or "")
    assert len(result.planning or []) == 3


async def test_planner_that_cannot_fix_its_plan_fails(planner: FakeModel) -> None:
    planner.enqueue(plan("nope"), plan("nope"), plan("nope"))
    result = await Toy(document="x").execute(raise_on_failure=False)
    assert result.status == "failed"
    assert "no acceptable plan after 3 tries" in (result.error or "")
