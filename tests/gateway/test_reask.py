"""Re-ask on invalid output: the next attempt tells the model what was wrong.

A scripted fake model answers outside the ``sentiment`` schema first; the step's retry sends
the original request plus the bad answer and a user message with the validation errors.
"""

from __future__ import annotations

from typing import Any

import pytest

from eightflow import Context, RetryPolicy, Step, StepResult, Workflow, WorkflowDefinition
from eightflow.gateway.reask import validation_feedback

pytestmark = pytest.mark.prefect

VALID = {"label": "positive", "score": 0.8}


class Rate(Workflow):
    attempts = 3

    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(
            name="rate_reask",
            steps=[
                Step(
                    name="rate",
                    handler=self.rate,
                    retry_policy=RetryPolicy.fixed(max_attempts=self.attempts, delay=0),
                )
            ],
        )

    async def rate(self, context: Context) -> StepResult:
        answer = await self.model.generate("sentiment", context.text, model="fake/model")
        return StepResult(label=answer.label)


@pytest.mark.parametrize(
    ("bad", "expected_in_feedback"),
    [
        ({"label": "ecstatic", "score": 0.8}, "label"),
        ({"label": "positive"}, "score"),
        ("not json at all", "Invalid JSON"),
    ],
)
async def test_invalid_answer_is_reasked_with_its_errors(
    fake_model: Any, bad: Any, expected_in_feedback: str
) -> None:
    fake_model.enqueue(bad, VALID)
    result = await Rate(text="A lovely day.").execute()
    assert result.status == "completed", result.error
    assert result.outputs["label"] == "positive"
    first, second = fake_model.calls_for("sentiment")
    # The re-ask is the original request plus the bad answer and the errors.
    assert second.messages[: len(first.messages)] == first.messages
    assistant, feedback = second.messages[len(first.messages) :]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == (bad if isinstance(bad, str) else fake_model_json(bad))
    assert feedback["role"] == "user"
    assert "did not match" in feedback["content"]
    assert expected_in_feedback in feedback["content"]
    step = result.step("rate")
    assert step.attempts == 2
    [reask] = step.notes["reasks"]
    assert reask["attempt"] == 2 and reask["prompt"] == "sentiment@v1"
    assert expected_in_feedback in reask["reason"]
    assert [c.error_type for c in step.calls] == ["ModelOutputError", None]


async def test_reask_is_bounded_by_the_retry_policy(fake_model: Any) -> None:
    bad = {"label": "ecstatic", "score": 0.8}
    fake_model.enqueue(bad, bad, bad, VALID)
    result = await Rate(text="A lovely day.").execute(raise_on_failure=False)
    assert result.status == "failed"
    assert result.error_type == "ModelOutputError"
    assert len(fake_model.calls_for("sentiment")) == Rate.attempts
    step = result.step("rate")
    assert [r["attempt"] for r in step.notes["reasks"]] == [2, 3]
    # Each re-ask carries only the latest bad answer: the request does not grow.
    sizes = {len(r.messages) for r in fake_model.calls_for("sentiment")[1:]}
    assert sizes == {len(fake_model.calls_for("sentiment")[0].messages) + 2}


async def test_valid_first_answer_is_not_reasked(fake_model: Any) -> None:
    fake_model.enqueue(VALID)
    result = await Rate(text="A lovely day.").execute()
    assert result.status == "completed"
    [call] = fake_model.calls_for("sentiment")
    assert [m["role"] for m in call.messages] == ["system", "user"]
    assert "reasks" not in result.step("rate").notes


def test_validation_feedback_names_every_field() -> None:
    from pydantic import BaseModel, ValidationError

    class Pair(BaseModel):
        a: int
        b: int

    with pytest.raises(ValidationError) as info:
        Pair.model_validate({"a": "x"})
    text = validation_feedback(info.value)
    assert text.splitlines() == [
        "- a: Input should be a valid integer, unable to parse string as an integer",
        "- b: Field required",
    ]


def fake_model_json(value: Any) -> str:
    import json

    return json.dumps(value)
