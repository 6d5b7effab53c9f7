"""Review rules: declared, frozen, validated; when they fire and what edits they allow."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from eightflow import Criterion, ReviewRule, Step, StepResult, WorkflowDefinition
from eightflow.definition.review import ReviewEditError
from eightflow.errors import WorkflowDefinitionError
from tasks.analysis.schemas import Sentiment

SURE = Sentiment(label="positive", score=0.9, confidence=0.95)
UNSURE = Sentiment(label="positive", score=0.06, confidence=0.51)
UNKNOWN = Sentiment(label="negative", score=-0.3)


def rule(**kw: Any) -> ReviewRule:
    return ReviewRule(name="r", step="s", output="sentiment", output_schema=Sentiment, **kw)


@pytest.mark.parametrize(
    ("kw", "value", "expected"),
    [
        ({"always": True}, SURE, ["review is always required"]),
        ({"confidence_below": 0.7}, SURE, []),
        ({"confidence_below": 0.7}, UNSURE, ["sentiment.confidence 0.510 < 0.7"]),
        ({"confidence_below": 0.7}, UNKNOWN, ["sentiment reports no confidence"]),
        ({"confidence_below": 0.7, "enabled": False}, UNSURE, []),
        ({"labels": ("negative",)}, SURE, []),
        ({"labels": ("negative",)}, UNKNOWN, ["sentiment.label is 'negative'"]),
        ({"labels": ("negative",)}, {"label": "negative"}, ["sentiment.label is 'negative'"]),
        (
            {
                "criterion": Criterion(
                    name="strong", check=lambda o: abs(o["sentiment"].score) > 0.5
                )
            },
            UNSURE,
            ["criterion strong failed: check returned False"],
        ),
    ],
)
def test_when_review_is_asked(kw: dict[str, Any], value: Any, expected: list[str]) -> None:
    assert rule(**kw).reasons({"sentiment": value}) == expected


@pytest.mark.parametrize(
    ("kw", "phrase"),
    [
        ({}, "no trigger"),
        ({"always": True, "editable": ("mood",)}, "editable fields not in Sentiment: mood"),
    ],
)
def test_bad_rules_are_refused(kw: dict[str, Any], phrase: str) -> None:
    with pytest.raises(WorkflowDefinitionError, match=phrase):
        rule(**kw)


def test_rules_are_frozen_and_bounded() -> None:
    r = rule(always=True)
    with pytest.raises(ValidationError):
        r.always = False  # type: ignore[misc]
    with pytest.raises(ValidationError):
        rule(confidence_below=1.5)
    with pytest.raises(ValidationError):
        rule(always=True, on_timeout="shrug")


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        ({"label": "neutral"}, Sentiment(label="neutral", score=0.06, confidence=0.51)),
        ({"score": "-0.5"}, Sentiment(label="positive", score=-0.5, confidence=0.51)),
    ],
)
def test_edits_are_typed_by_the_schema(edits: dict[str, Any], expected: BaseModel) -> None:
    r = rule(always=True, editable=("label", "score"))
    assert r.apply_edits(UNSURE, edits) == expected
    assert r.actions == ("approve", "edit", "reject")


@pytest.mark.parametrize(
    ("edits", "phrase"),
    [
        ({"label": "ecstatic"}, "label"),
        ({"score": "2"}, "score"),
        ({"confidence": "1"}, "not editable"),
    ],
)
def test_bad_edits_are_refused(edits: dict[str, Any], phrase: str) -> None:
    with pytest.raises(ReviewEditError, match=phrase):
        rule(always=True, editable=("label", "score")).apply_edits(UNSURE, edits)


def _handler(context: Any) -> StepResult:
    return StepResult(sentiment=SURE)


def test_definition_checks_rules_and_turns_them_on() -> None:
    off = ReviewRule(name="r", step="s", output="sentiment", confidence_below=0.7, enabled=False)
    d = WorkflowDefinition(name="w", steps=[Step(name="s", handler=_handler)], review=[off])
    on = d.with_review_below(0.4)
    assert on.review[0].enabled and on.review[0].confidence_below == 0.4
    assert not d.review[0].enabled  # the original is untouched
    assert on.version_hash() != d.version_hash()
    with pytest.raises(WorkflowDefinitionError, match="unknown step 'nope'"):
        WorkflowDefinition(
            name="w",
            steps=[Step(name="s", handler=_handler)],
            review=[off.model_copy(update={"step": "nope"})],
        )
