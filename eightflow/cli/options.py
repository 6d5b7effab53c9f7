"""Command options derived from an options model: one description per option.

``cli_options(BatchParams, ...)`` gives a Typer command the model's fields as options:
``--max-cost-usd`` for ``max_cost_usd``, the field's description as the help, its default
as the default, the choices of a ``Literal``, ``--flag/--no-flag`` for a bool. The command
itself declares only what the model does not hold (``--json``), and takes the rest as
``**options``; it hands them to the flow, which checks them against the same model.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

F = TypeVar("F", bound=Callable[..., Any])


def option_name(field: str) -> str:
    """The long option of a field: ``max_cost_usd`` -> ``--max-cost-usd``."""
    return "--" + field.replace("_", "-")


def _default_flags(name: str, field: FieldInfo) -> tuple[str, ...]:
    if field.annotation is bool:  # both ways: --refresh/--no-refresh, --no-recursive
        return (f"{option_name(name)}/--no-{name.replace('_', '-')}",)
    return (option_name(name),)


def _parameter(name: str, field: FieldInfo, flags: tuple[str, ...], argument: bool) -> Any:
    help_text = " ".join((field.description or "").split())
    default = field.get_default(call_default_factory=True)
    if argument:
        info: Any = typer.Argument(help=help_text)
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[field.annotation, info]
        )
    info = typer.Option(*flags, help=help_text, show_default=default is not None)
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[field.annotation, info],
    )


def cli_options(
    model: type[BaseModel],
    exclude: Iterable[str] = (),
    arguments: Iterable[str] = (),
    flags: dict[str, tuple[str, ...]] | None = None,
    first: Iterable[str] = (),
) -> Callable[[F], F]:
    """Give a Typer command the fields of ``model`` as its options.

    ``arguments`` are fields taken as positional arguments (in the given order, first);
    ``flags`` overrides a field's option names (e.g. ``{"model": ("--model", "-m")}``);
    ``first`` names the options shown first (the Run form's order), the others follow in
    the model's order. The command's own parameters (before ``**options``) come last.
    """
    skip, positional, names = set(exclude), list(arguments), dict(flags or {})
    leading = [n for n in first if n in model.model_fields]

    def apply(fn: F) -> F:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(fn, eval_str=True).parameters.values()
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        fields = model.model_fields
        order = leading + [n for n in fields if n not in leading]
        derived = [_parameter(n, fields[n], (), True) for n in positional]
        derived += [
            _parameter(n, fields[n], names.get(n, _default_flags(n, fields[n])), False)
            for n in order
            if n not in skip and n not in positional
        ]
        parameters = derived + own
        fn.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        fn.__annotations__ = {p.name: p.annotation for p in parameters}
        return fn

    return apply
