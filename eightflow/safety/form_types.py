"""The typed fields of deployment Run forms: what someone with the UI may choose.

A Run form is filled in by whoever can reach the Prefect UI, and the worker then acts with
its own keys and files. So the form offers choices, not free text where it matters:

- ``AllowedModel``: a model from the operator's list. ``EIGHTFLOW_ALLOWED_MODELS``
  (comma-separated; ``prefect.yaml`` passes it to workers); unset, it is
  ``EIGHTFLOW_MODEL``, ``EIGHTFLOW_FALLBACK_MODELS`` and the embedded model.
- ``ReadablePath``: a file or folder inside ``EIGHTFLOW_DATA_ROOTS`` (after links).
- ``OutputFolder``: a folder inside ``EIGHTFLOW_OUT_ROOT``, never in prompts/ or the home.

There is no base-URL field: where calls go is the operator's setting
(``EIGHTFLOW_API_BASE``), never a form's.

``flat_parameters`` gives a flow the fields of its options model as flat, typed
parameters: the Run form shows them one by one, ``prefect deployment run --param x=``
sets them, and their descriptions are the model's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel

from eightflow.safety.path_roots import check_output_dir, check_readable
from eightflow.settings import check_allowed_model


def _readable(path: str) -> str:
    check_readable(path)
    return path


def _output(path: str) -> str:
    check_output_dir(path)
    return path


AllowedModel = Annotated[str | None, AfterValidator(check_allowed_model)]
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
        annotation = (checks or {}).get(name, field.annotation)
        if field.metadata:  # bounds (ge, le...) and validators travel with the type
            annotation = Annotated[(annotation, *field.metadata)]
        default = field.get_default(call_default_factory=True)
        parameters.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
    return parameters


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
