"""The typed fields of deployment Run forms: what someone with the UI may choose.

A Run form is filled in by whoever can reach the Prefect UI, and the worker then acts with
its own keys and files. So the form offers choices, not free text where it matters:

- ``AllowedModel``: a model from the operator's list, offered as a choice (an ``enum``
  written when the deployment's parameter schema is built, i.e. at deploy time, from the
  operator's settings). ``EIGHTFLOW_ALLOWED_MODELS`` (comma-separated; ``prefect.yaml``
  passes it to workers); unset, it is ``EIGHTFLOW_MODEL``, ``EIGHTFLOW_FALLBACK_MODELS``
  and the embedded model. The form preselects the operator's default model; code that
  calls the flow may pass an empty value for that default.
- ``ReadablePath``: a file or folder inside ``EIGHTFLOW_DATA_ROOTS`` (after links).
- ``OutputFolder``: a folder inside ``EIGHTFLOW_OUT_ROOT``, never in prompts/ or the home.

There is no base-URL field: where calls go is the operator's setting
(``EIGHTFLOW_API_BASE``), never a form's.

``flat_parameters`` gives a flow the fields of its options model as flat, typed
parameters: the Run form shows them one by one, ``prefect deployment run --param x=``
sets them, and their descriptions are the model's.

A form field is never optional in the type-theory sense: ``str | None`` shows in Prefect's
UI as a ``str``/``None`` toggle and "Property is type None". An optional field of the model
becomes its plain type in the form, with an empty value standing for "none" (``""``, ``0``,
``[]``: :data:`FORM_EMPTY`); the options model reads that empty value as ``None``
(:func:`none_if_empty`), and :func:`to_form` writes ``None`` back as it.
"""

from __future__ import annotations

import copy
import inspect
import types
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import AfterValidator, BaseModel, GetJsonSchemaHandler
from pydantic_core import CoreSchema

from eightflow.safety.path_roots import check_output_dir, check_readable
from eightflow.settings import EMBEDDED_MODEL, allowed_models, check_allowed_model, get_settings

#: The value a form field holds for "none", by the field's type.
FORM_EMPTY: dict[type, Any] = {str: "", int: 0, float: 0, list: []}


def _readable(path: str) -> str:
    return str(check_readable(path))  # a relative default: read under the data root


def _output(path: str) -> str:
    return str(check_output_dir(path))


def _model_choice(model: str | None) -> str:
    return check_allowed_model(model) or ""  # empty: the operator's default model


class ModelChoices:
    """JSON schema of a model field: a choice of the operator's allowed models, read when
    the schema is built (a deployment's: when it is deployed)."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        schema = dict(handler(core_schema))
        schema["enum"] = allowed_models()
        return schema


def default_model_choice() -> str:
    """The model a form preselects: the operator's default if allowed, else the first
    allowed one."""
    allowed = allowed_models()
    model = get_settings().model or EMBEDDED_MODEL
    return model if model in allowed else allowed[0]


AllowedModel = Annotated[str, AfterValidator(_model_choice), ModelChoices()]
ReadablePath = Annotated[str, AfterValidator(_readable)]
OutputFolder = Annotated[str, AfterValidator(_output)]


F = TypeVar("F", bound=Callable[..., Any])


def model_parameters(
    model: type[BaseModel],
    exclude: Iterable[str] = (),
    first: Iterable[str] = (),
    checks: dict[str, Any] | None = None,
) -> list[inspect.Parameter]:
    """The model's fields as keyword parameters: type with its bounds and checks, default.

    ``first`` names the fields that come first (the form's order); the others follow in
    the model's order, so a new field always appears. ``checks`` gives a field a form
    type of this module instead of its own (``{"folder": ReadablePath}``).
    """
    fields = {n: f for n, f in model.model_fields.items() if n not in set(exclude)}
    order = [n for n in first if n in fields] + [n for n in fields if n not in set(first)]
    parameters = []
    for name in order:
        field = fields[name]
        plain, empty = form_type(field.annotation)
        annotation = (checks or {}).get(name, plain)
        default = field.get_default(call_default_factory=True)
        metadata = list(field.metadata)
        if default is None and plain is not field.annotation:
            default = empty
            metadata = [_admitting(m, empty) for m in metadata]
        if annotation is AllowedModel and not default:
            default = default_model_choice()  # the form preselects a real choice
        if metadata:  # bounds (ge, le...) and validators travel with the type
            annotation = Annotated[(annotation, *metadata)]
        parameters.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
    return parameters


def form_type(annotation: Any) -> tuple[Any, Any]:
    """An optional annotation's plain type and its empty value (``float | None`` ->
    ``(float, 0)``); any other annotation as it is, with no empty value."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1 and len(get_args(annotation)) == 2:
            origin = get_origin(rest[0]) or rest[0]
            if origin in FORM_EMPTY:
                return rest[0], copy.copy(FORM_EMPTY[origin])
    return annotation, None


def _admitting(bound: Any, empty: Any) -> Any:
    """A lower bound that lets the empty value through (``gt=0`` -> ``ge=0`` for 0)."""
    if isinstance(bound, annotated_types.Gt) and bound.gt == empty:
        return annotated_types.Ge(bound.gt)  # type: ignore[arg-type]
    return bound


def none_if_empty(value: Any) -> Any:
    """A form's empty value (``""``, ``0``, ``[]``) read as ``None``: for an options
    model's field validator (mode ``before``) on fields whose 0 means "none" anyway."""
    if value is None or isinstance(value, bool):
        return value
    return None if value in ("", 0, []) else value


def to_form(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` of ``model``'s fields as a form sends them: ``None`` as the field's
    empty value (what the flat parameters accept)."""
    found = {}
    for name, value in values.items():
        field = model.model_fields.get(name)
        if value is None and field is not None:
            value = form_type(field.annotation)[1]
        found[name] = value
    return found


def _args_section(model: type[BaseModel], names: Iterable[str]) -> str:
    lines = ["Args:"]
    for name in names:
        text = " ".join((model.model_fields[name].description or "").split())
        lines.append(f"    {name}: {text}")
    return "\n".join(lines)


def flat_parameters(
    model: type[BaseModel],
    exclude: Iterable[str] = (),
    first: Iterable[str] = (),
    checks: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """Give a flow function that takes ``**options`` the model's fields as its signature.

    Prefect reads a flow's parameters from its signature (types, defaults) and their
    descriptions from its docstring's ``Args:``; both are written here from ``model``,
    so the function body gets the same names and builds ``model(**options)``.
    """

    def apply(fn: F) -> F:
        parameters = model_parameters(model, exclude, first, checks)
        returns = inspect.signature(fn).return_annotation
        fn.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
        fn.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
        summary = inspect.cleandoc(fn.__doc__ or "")
        fn.__doc__ = f"{summary}\n\n{_args_section(model, [p.name for p in parameters])}"
        return fn

    return apply
