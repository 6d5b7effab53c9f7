"""Grounding as a review rule: which steps are checked, what is noted, what is asked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow

from eightflow import ReviewRule, WorkflowDefinition
from eightflow.review.grounding_rule import (
    GROUNDING_RULE,
    document_text,
    ground_run,
    grounding_requests,
)
from eightflow.runtime.records import ModelCall, StepRecord, WorkflowResult

DOCUMENT = "Harbour Lane Holdings reported revenue of 1,200 for Q3. Maria Okafor spoke."
NOW = datetime.now(UTC)


def _step(name: str, outputs: list[str], *, called: bool = True, status: str = "completed"):  # type: ignore[no-untyped-def]
    record = StepRecord(name=name, status=status, output_keys=outputs)  # type: ignore[arg-type]
    if called:
        record.add_call(ModelCall(model="fake/model", provider="fake", started=NOW))
    return record


def _result(outputs: dict[str, Any], steps: list[StepRecord], status: str = "completed"):  # type: ignore[no-untyped-def]
    return WorkflowResult(
        run_id="r1", workflow="w", version="v", status=status, outputs=outputs,  # type: ignore[arg-type]
        steps=steps, started=NOW, finished=NOW, duration_ms=1.0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("outputs", "steps", "grounded", "noted"),
    [
        # a faithful summary: grounded, noted
        ({"summary": "Maria Okafor spoke of revenue of 1,200."}, [_step("s", ["summary"])],
         True, {"s": True}),
        # an invented entity: not grounded
        ({"entities": {"entities": [{"text": "Globex Corporation", "type": "org"}]}},
         [_step("e", ["entities"])], False, {"e": False}),
        # a step that asked no model (a compilation) is not checked
        ({"report": "Globex Corporation rose 42%."}, [_step("c", ["report"], called=False)],
         None, {}),
        # nothing checkable (a label and a score): no verdict, no note
        ({"sentiment": {"label": "positive", "score": 0.5}}, [_step("t", ["sentiment"])],
         None, {}),
    ],
)  # fmt: skip
def test_ground_run_checks_model_steps_and_notes_them(
    outputs: dict[str, Any], steps: list[StepRecord], grounded: bool | None, noted: dict[str, bool]
) -> None:
    result = _result(outputs, steps)
    found = ground_run(result, DOCUMENT)
    assert result.grounded is found.grounded is grounded
    notes = {s.name: s.notes["grounding"]["grounded"] for s in steps if "grounding" in s.notes}
    assert notes == noted


def test_an_ungrounded_step_asks_under_the_grounding_rule_with_the_first_rules_wait() -> None:
    rule = ReviewRule(name="r", step="sentiment", output="sentiment", always=True,
                      timeout_seconds=7, on_timeout="approve")  # fmt: skip
    analysis = DocumentAnalysisWorkflow().definition
    definition: WorkflowDefinition = analysis.model_copy(update={"review": (rule,)})
    outputs = {"entities": {"entities": [{"text": "Globex Corporation", "type": "org"}]}}
    result = _result(outputs, [_step("e", ["entities"])])
    [(asked_rule, request)] = grounding_requests(definition, result, ground_run(result, DOCUMENT))
    assert (asked_rule.name, asked_rule.timeout_seconds, asked_rule.on_timeout) == (
        GROUNDING_RULE, 7, "approve"
    )  # fmt: skip
    assert asked_rule.actions == ("approve", "reject")  # no edits: nothing typed to edit
    assert (request.step, request.output, request.rule) == ("e", "entities", GROUNDING_RULE)
    assert request.reason.startswith("ungrounded: ") and "Globex" in request.reason
    failed = _result(outputs, [_step("e", ["entities"])], status="failed")
    assert grounding_requests(definition, failed, ground_run(failed, DOCUMENT)) == []


@pytest.mark.parametrize(
    ("inputs", "text"),
    [({"document": DOCUMENT}, DOCUMENT), ({"document": "  "}, None), ({"q": "x"}, None)],
)
def test_document_text_is_the_contexts_document(inputs: dict[str, Any], text: str | None) -> None:
    assert document_text(inputs) == text


def test_a_decided_entities_review_keeps_the_results_column_readable() -> None:
    value = {"entities": [{"text": "Maria Okafor", "type": "person"}]}
    columns = DocumentAnalysisWorkflow().review_columns("entities", value)
    assert columns == {"entities": "Maria Okafor (person)"}
