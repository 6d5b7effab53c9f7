"""The one ``@flow`` for eightflow's flows: Prefect's, with plain parameters sent as they are.

Every flow run Prefect creates from a call (``eightflow run``, ``eightflow analyze``, a
test, a subflow) passes the call's parameters through ``Flow.serialize_parameters``, which
imports FastAPI's ``jsonable_encoder`` to make them JSON. That import is 0.13-0.15 s of CPU
here (measured after Prefect's own import), paid by every run's start, and by a cached
re-run of a folder that otherwise does almost nothing (issue 26, target 4). eightflow's
flows take plain values: their Run forms are flat (``eightflow.safety.form_types``) and
deployments send JSON. A value that is already JSON (``str``, ``int``, ``float``, ``bool``,
``None``, and lists and string-keyed dicts of those) is what ``jsonable_encoder`` would
return, so it is sent as it is; a call with any other value (a ``Path``, a model, a
tuple, a future) goes through Prefect's encoder as before, all its parameters together.

Use :func:`flow` wherever Prefect's would be used (``tests/compiler/test_flows.py`` checks
that every flow in ``flows/`` is one). ``Flow.with_options`` returns a plain Prefect
``Flow``: correct, only without the shortcut.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, overload

from prefect import Flow

P = ParamSpec("P")
R = TypeVar("R")
_SCALARS = (str, int, float, bool, type(None))
_MAX_DEPTH = 32  # deeper values go through Prefect's encoder (and its own limits)


def is_plain_json(value: Any, depth: int = 0) -> bool:
    """Whether ``jsonable_encoder(value)`` would return ``value`` unchanged (equal, and of
    the same types): exact JSON scalars, lists and dicts with ``str`` keys of them (but
    not keys starting ``_sa``, which the encoder drops as SQLAlchemy's)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if depth >= _MAX_DEPTH:
        return False
    if kind is list:
        return all(is_plain_json(item, depth + 1) for item in value)
    if kind is dict:
        return all(
            type(key) is str and not key.startswith("_sa") and is_plain_json(item, depth + 1)
            for key, item in value.items()
        )
    return False  # subclasses too (an Enum of str, a pydantic model): Prefect encodes those


class EightflowFlow(Flow[P, R]):
    """A Prefect ``Flow`` whose plain parameters reach the API without FastAPI's encoder."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        bound = self.ismethod or self.isclassmethod  # Prefect drops the bound self or class
        if not bound and all(is_plain_json(value) for value in parameters.values()):
            return dict(parameters)
        return super().serialize_parameters(parameters)


@overload
def flow(fn: Callable[P, R], /, **options: Any) -> EightflowFlow[P, R]: ...


@overload
def flow(fn: None = None, /, **options: Any) -> Callable[[Callable[P, R]], EightflowFlow[P, R]]: ...


def flow(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """``prefect.flow`` (the same options), making an :class:`EightflowFlow`."""
    if fn is None:
        return lambda body: EightflowFlow(fn=body, **options)
    return EightflowFlow(fn=fn, **options)
