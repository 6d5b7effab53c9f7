"""One option model: ``eightflow analyze``'s options and the batch flows' parameters are
derived from ``BatchParams``, field by field (name, default, description)."""

from __future__ import annotations

from typing import Any

import click
import pytest
import typer
from eightflow_app.flows.batch_documents import batch_documents
from eightflow_app.flows.batch_sharded import SHARED, ShardedParams, batch_sharded
from prefect.utilities.callables import parameter_schema
from pydantic import Field
from typer.testing import CliRunner

from eightflow.batch.params import CLI_EXCLUDES, FLOW_EXCLUDES, BatchParams
from eightflow.cli.main import app
from eightflow.cli.options import cli_options, option_name
from eightflow.safety.form_types import default_model_choice, flat_parameters, form_type

CLI_ONLY = {"as_json"}  # --json: how the command prints, not a batch option


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def _field_default(model: Any, name: str) -> Any:
    return model.model_fields[name].get_default(call_default_factory=True)


def _form_default(model: Any, name: str) -> Any:
    """The default a Run form shows: the field's, or for an optional field its empty value
    (the preselected model for ``model``)."""
    default = _field_default(model, name)
    if default is None:
        default = form_type(model.model_fields[name].annotation)[1]
    return default_model_choice() if name == "model" else default


def _flow_properties(fn: Any) -> dict[str, dict[str, Any]]:
    return parameter_schema(fn).model_dump()["properties"]


def _command_params(command: click.Command) -> dict[str, click.Parameter]:
    return {p.name: p for p in command.params if p.name != "help"}  # type: ignore[misc]


def _analyze() -> click.Command:
    return typer.main.get_command(app).commands["analyze"]  # type: ignore[attr-defined,no-any-return]


def test_the_flow_and_the_cli_offer_exactly_the_models_fields() -> None:
    fields = set(BatchParams.model_fields)
    assert set(_flow_properties(batch_documents.fn)) == fields - set(FLOW_EXCLUDES)
    assert set(_command_params(_analyze())) == fields - set(CLI_EXCLUDES) | CLI_ONLY


@pytest.mark.parametrize("name", sorted(set(BatchParams.model_fields) - set(FLOW_EXCLUDES)))
def test_a_flow_parameter_is_its_field(name: str) -> None:
    field = BatchParams.model_fields[name]
    schema = _flow_properties(batch_documents.fn)[name]
    assert field.description and schema["description"] == _text(field.description)
    assert schema.get("default") == _form_default(BatchParams, name)
    assert batch_documents.parameters.properties[name]["description"] == schema["description"]


@pytest.mark.parametrize("name", sorted(set(BatchParams.model_fields) - set(CLI_EXCLUDES)))
def test_a_cli_option_is_its_field(name: str) -> None:
    param = _command_params(_analyze())[name]
    assert param.help == _text(BatchParams.model_fields[name].description)  # type: ignore[attr-defined]
    if isinstance(param, click.Option):
        assert param.default == _field_default(BatchParams, name)
        assert option_name(name) in param.opts or option_name(name) in param.secondary_opts


def test_the_help_shows_every_option_and_its_description() -> None:
    shown = CliRunner().invoke(app, ["analyze", "--help"], env={"COLUMNS": "400"}).output
    for name in set(BatchParams.model_fields) - set(CLI_EXCLUDES) - {"folder"}:
        assert option_name(name) in shown
        assert _text(BatchParams.model_fields[name].description)[:60] in _text(shown)


@pytest.mark.parametrize("name", SHARED)
def test_the_sharded_flow_shares_the_batch_fields(name: str) -> None:
    schema = _flow_properties(batch_sharded.fn)[name]
    assert schema["description"] == _text(BatchParams.model_fields[name].description)
    assert schema.get("default") == _form_default(BatchParams, name)
    assert set(_flow_properties(batch_sharded.fn)) == set(ShardedParams.model_fields)


def test_a_field_added_to_the_model_appears_in_the_flow_and_the_cli() -> None:
    class Wider(BatchParams):
        temperature: float = Field(default=0.2, ge=0, description="Sampling temperature.")

    @flat_parameters(Wider)
    async def flow_fn(**options: Any) -> Any:
        """A flow."""

    probe = typer.Typer()

    @probe.command()
    @cli_options(Wider, arguments=("folder",))
    def command(**options: Any) -> None:
        """A command."""

    added = _flow_properties(flow_fn)["temperature"]
    assert added["description"] == "Sampling temperature." and added["default"] == 0.2
    option = _command_params(typer.main.get_command(probe))["temperature"]
    assert option.help == "Sampling temperature." and option.default == 0.2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"workflow": "no_such_workflow"}, "unknown workflow"),
        ({"concurrency": 300}, "concurrency"),
        ({"review_below": 1.5}, "review_below"),
        ({"model": "someone/else"}, "EIGHTFLOW_ALLOWED_MODELS"),  # the Run form's checks
        ({"out": "prompts"}, "outputs never go into a prompts folder"),
    ],
)
def test_the_models_checks_travel_with_the_flat_parameters(
    parameters: dict[str, Any], problem: str
) -> None:
    from prefect.exceptions import ParameterTypeError

    with pytest.raises(ParameterTypeError, match=problem):
        batch_documents.validate_parameters(parameters)
    if set(parameters) <= set(ShardedParams.model_fields):  # the options it shares
        with pytest.raises(ParameterTypeError, match=problem):
            batch_sharded.validate_parameters(parameters)
