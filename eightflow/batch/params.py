"""The ``batch-documents`` flow's options: one model, the single source.

:class:`BatchParams` is the engine's :class:`BatchOptions` plus the folder's own options.
Everything else is derived from it, field by field (name, type and bounds, default, one
description):

- the flow's flat, typed parameters (:func:`eightflow.safety.form_types.flat_parameters`), which
  Prefect's Run form shows one by one and ``prefect deployment run ... --param x=`` sets;
- the options of ``eightflow analyze`` (:func:`eightflow.cli.options.cli_options`).

Adding a field here adds it to both. Bounds and checks travel with each field; the Run
form's own checks (:data:`FORM_CHECKS`: data roots, output root, the operator's models)
apply to the flow's parameters, since a form is filled in by whoever reaches the UI, and
not to code that builds a ``BatchParams`` itself.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, GetJsonSchemaHandler, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import CoreSchema

from eightflow.batch.models import BatchOptions
from eightflow.safety.form_types import (
    AllowedModel,
    OutputFolder,
    ReadablePath,
    none_if_empty,
    to_form,
)


def registered_workflow(value: str) -> str:
    """``value`` if it names a registered workflow; else an error listing them."""
    from eightflow.registry import workflow_names

    names = workflow_names()
    if value not in names:
        raise ValueError(f"unknown workflow '{value}'; registered: {', '.join(names)}")
    return value


def shared_field(model: type[Any], name: str, **overrides: Any) -> Any:
    """``model``'s field ``name`` (type, bounds, default, description) for another model
    that shares it; ``overrides`` change what differs (e.g. a default)."""
    return FieldInfo.merge_field_infos(model.model_fields[name], **overrides)


class WorkflowChoices:
    """JSON schema of a workflow field: a choice of the registered workflows."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        from eightflow.registry import workflow_names

        schema = dict(handler(core_schema))
        schema["enum"] = list(workflow_names())
        return schema


RegisteredWorkflow = Annotated[str, AfterValidator(registered_workflow), WorkflowChoices()]


class BatchParams(BatchOptions):
    """A batch's options as one object: the flow's flat parameters and the CLI's options
    are derived from it (the base URL stays the operator's: no form field for it)."""

    folder: str = Field(
        default="examples/documents",
        description="Folder of documents to analyse, inside the data roots (EIGHTFLOW_DATA_ROOTS).",
    )
    out: str = Field(
        default="out",
        description="Where results.csv, results.parquet, trace.jsonl and report.md go, inside "
        "the output root (EIGHTFLOW_OUT_ROOT); never in prompts/ or EIGHTFLOW_HOME.",
    )
    include: list[str] | None = Field(
        default=None,
        description="Glob patterns to include (e.g. *.pdf); empty includes every file.",
    )
    exclude: list[str] | None = Field(
        default=None, description="Glob patterns to exclude (e.g. drafts/**)."
    )
    workflow: RegisteredWorkflow = Field(
        default="document_analysis", description="Registered workflow to run on each document."
    )
    recursive: bool = Field(default=True, description="Descend into sub-folders.")

    @field_validator("include", "exclude", mode="before")
    @classmethod
    def _no_patterns(cls, value: Any) -> Any:
        """A form's empty list means no patterns."""
        return none_if_empty(value)

    def flow_parameters(self) -> dict[str, Any]:
        """The flat parameters of the ``batch-documents`` flow (no base URL: that is the
        operator's EIGHTFLOW_API_BASE), as a Run form sends them (no ``None``: empty values)."""
        return to_form(type(self), self.model_dump(exclude=set(FLOW_EXCLUDES)))

    def batch_options(self) -> BatchOptions:
        """The engine's part of these options."""
        return BatchOptions.model_validate(self.model_dump(include=set(BatchOptions.model_fields)))


#: What a Run form may choose, checked on the flow's parameters (see eightflow.safety.form_types).
FORM_CHECKS: dict[str, Any] = {
    "folder": ReadablePath,
    "out": OutputFolder,
    "model": AllowedModel,
}
#: Fields of :class:`BatchParams` that are not flow parameters (the operator's setting).
FLOW_EXCLUDES = ("api_base",)
#: Fields of :class:`BatchParams` that ``eightflow analyze`` does not offer (sharding is the
#: ``batch-sharded`` flow's business).
CLI_EXCLUDES = ("shard_index", "shard_count", "batch_key")
#: The order the Run form shows first; the other fields follow in the model's order.
FORM_ORDER = (
    "folder",
    "out",
    "include",
    "exclude",
    "max_cost_usd",
    "on_budget",
    "budget_switch_at",
    "concurrency",
    "workflow",
    "model",
    "recursive",
    "refresh",
)
