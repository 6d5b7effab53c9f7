"""Run forms speak people: choices as choices, no ``str``/``None`` toggles, no "Property is
type None" (the deployment's parameter schema, as Prefect builds it at deploy time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eightflow_app.flows.batch_documents import batch_documents
from eightflow_app.flows.batch_sharded import batch_sharded
from eightflow_app.flows.document_analysis import document_analysis
from eightflow_app.flows.document_triage import document_triage_flow
from prefect.utilities.callables import parameter_schema

from eightflow.batch.models import BatchOptions
from eightflow.batch.params import BatchParams
from eightflow.registry import workflow_names
from eightflow.safety.form_types import form_type, none_if_empty, to_form

FLOWS = [batch_documents, batch_sharded, document_analysis, document_triage_flow]
OPERATORS_MODELS = "openai/gpt-4o-mini,anthropic/claude-haiku-4-5,local/embedded"


def _schema(flow: Any) -> dict[str, Any]:
    return parameter_schema(flow.fn).model_dump()


def _nulls(node: Any) -> list[Any]:
    """Every ``{"type": "null"}`` (an ``anyOf`` with null, a ``None`` default) in a schema."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "null" or ("default" in node and node["default"] is None):
            found.append(node)
        for value in node.values():
            found += _nulls(value)
    elif isinstance(node, list):
        for value in node:
            found += _nulls(value)
    return found


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_no_form_field_is_optional_in_the_type_theory_sense(flow: Any) -> None:
    schema = _schema(flow)
    assert _nulls(schema) == []
    assert all("anyOf" not in p for p in schema["properties"].values())


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_model_is_a_choice_of_the_operators_models_read_at_deploy_time(
    flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EIGHTFLOW_ALLOWED_MODELS", OPERATORS_MODELS)
    model = _schema(flow)["properties"]["model"]
    assert model["enum"] == OPERATORS_MODELS.split(",")


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_the_preselected_model_is_one_of_the_choices(flow: Any) -> None:
    model = _schema(flow)["properties"]["model"]
    assert model["default"] in model["enum"]


@pytest.mark.parametrize("flow", [batch_documents, batch_sharded], ids=lambda f: f.name)
def test_workflow_is_a_choice_of_the_registered_workflows(flow: Any) -> None:
    workflow = _schema(flow)["properties"]["workflow"]
    assert workflow["enum"] == list(workflow_names())
    assert workflow["default"] in workflow["enum"]


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (str | None, (str, "")),
        (float | None, (float, 0)),
        (int | None, (int, 0)),
        (list[str] | None, (list[str], [])),
        (str, (str, None)),
        (int | str, (int | str, None)),
        (dict[str, int] | None, (dict[str, int] | None, None)),  # no empty value known: kept
    ],
)
def test_an_optional_type_becomes_its_plain_type_and_empty_value(
    annotation: Any, expected: tuple[Any, Any]
) -> None:
    assert form_type(annotation) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", None), (0, None), (0.0, None), ([], None), ("x", "x"), (0.5, 0.5), (False, False)],
)
def test_a_forms_empty_value_reads_as_none(value: Any, expected: Any) -> None:
    assert none_if_empty(value) == expected


@pytest.mark.parametrize(
    ("form", "field", "expected"),
    [
        ({"model": ""}, "model", None),
        ({"rpm": 0}, "rpm", None),
        ({"max_cost_usd": 0}, "max_cost_usd", None),
        ({"review_below": 0}, "review_below", None),
        ({"review_below": 0.8}, "review_below", 0.8),
        ({"max_cost_usd": 2.5}, "max_cost_usd", 2.5),
    ],
)
def test_the_options_model_reads_form_empties_as_none(
    form: dict[str, Any], field: str, expected: Any
) -> None:
    assert getattr(BatchOptions(**form), field) == expected


def test_flow_parameters_round_trip_through_the_form_types() -> None:
    params = BatchParams(folder="examples/documents", out="out/x", review_below=0.6)
    sent = params.flow_parameters()
    assert None not in sent.values()
    checked = batch_documents.validate_parameters(sent)
    again = BatchParams(**checked)
    paths = {"folder", "out"}  # the form checks them: real paths come back
    assert again.model_dump(exclude=paths) == params.model_dump(exclude=paths)
    assert again.folder == str(Path(params.folder).resolve())


def test_to_form_writes_none_as_the_fields_empty_value() -> None:
    assert to_form(BatchParams, {"rpm": None, "include": None, "model": None, "folder": "f"}) == {
        "rpm": 0,
        "include": [],
        "model": "",
        "folder": "f",
    }


@pytest.mark.parametrize(
    ("parameters", "field", "expected"),
    [({}, "review_below", 0), ({"review_below": 0.4}, "review_below", 0.4)],
)
def test_a_single_run_form_needs_no_optional_values(
    parameters: dict[str, Any], field: str, expected: Any
) -> None:
    checked = document_analysis.validate_parameters({"path": "examples/sample.md", **parameters})
    assert checked.get(field, 0) == expected
