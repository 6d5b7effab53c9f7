"""The review form (a RunInput built from the rule) speaks people: choices as choices, no
``str``/``None`` toggles, "(Optional)" only on the note and the reviewer's name."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from eightflow.definition.review import ReviewRule
from eightflow.review.flow import decision_from_form, review_form
from eightflow.review.requests import ReviewRequest


class Mood(BaseModel):
    label: Literal["positive", "negative", "neutral"]
    score: float = Field(ge=-1, le=1, description="-1 .. 1")
    comment: str | None = None
    confidence: float | None = None


RULE = ReviewRule(
    name="mood_check",
    step="mood",
    output="mood",
    confidence_below=0.7,
    output_schema=Mood,
    editable=("label", "score", "comment"),
)
PROPOSED = {"label": "neutral", "score": 0.1, "comment": None, "confidence": 0.4}


def _request() -> ReviewRequest:
    return ReviewRequest(
        run_id="r1",
        workflow="w",
        version="1",
        step="mood",
        rule=RULE.name,
        output="mood",
        proposed=PROPOSED,
        reasons=["mood.confidence 0.400 < 0.7"],
        actions=list(RULE.actions),
        editable=list(RULE.editable),
    )


def _schema() -> dict[str, Any]:
    return review_form(RULE, _request()).model_json_schema()  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ["decision", "note", "reviewer", "label", "score", "comment"])
def test_no_field_has_a_none_toggle(name: str) -> None:
    field = _schema()["properties"][name]
    assert "anyOf" not in field and field.get("type") != "null"


@pytest.mark.parametrize(
    ("name", "choices"),
    [("decision", ["approve", "edit", "reject"]), ("label", ["positive", "negative", "neutral"])],
)
def test_choices_are_choices(name: str, choices: list[str]) -> None:
    assert _schema()["properties"][name]["enum"] == choices


def test_the_decision_and_the_editable_fields_are_required_and_filled_in() -> None:
    schema = _schema()
    assert schema["required"] == ["decision", "label", "score", "comment"]
    assert schema["properties"]["label"]["default"] == "neutral"
    assert schema["properties"]["score"]["default"] == 0.1


def test_no_description_asks_for_anything_in_spirit() -> None:
    assert "in spirit" not in str(_schema())


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({}, ("approve", {})),
        ({"label": "negative"}, ("edit", {"label": "negative"})),
        ({"comment": "mixed"}, ("edit", {"comment": "mixed"})),
        ({"comment": ""}, ("approve", {})),  # the empty value of an optional field: no edit
        ({"note": "fine as it is"}, ("approve", {})),
        ({"decision": "reject", "label": "negative"}, ("reject", {})),
    ],
)
def test_a_submitted_form_reads_as_a_decision(
    answer: dict[str, Any], expected: tuple[str, dict[str, Any]]
) -> None:
    form = review_form(RULE, _request())
    assert decision_from_form(form(**answer), RULE, _request()) == expected
