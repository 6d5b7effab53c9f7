"""Success criteria: checks over a run's outputs that decide whether it succeeded.

A run whose steps all completed can still be a failure: an empty summary, entities that do
not match their schema. Criteria make that explicit and named, so reports say which one
failed rather than just "failed".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class Criterion(BaseModel):
    """A named check over the outputs. Build with the class methods or from a callable."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    check: Callable[[Mapping[str, Any]], bool]
    description: str = ""

    def evaluate(self, outputs: Mapping[str, Any]) -> tuple[bool, str | None]:
        """(passed, why-not). A check that raises counts as failed, with the reason."""
        try:
            ok = bool(self.check(outputs))
        except Exception as exc:  # a broken check must not crash the run report
            return False, f"{type(exc).__name__}: {exc}"
        return ok, None if ok else (self.description or "check returned False")

    @classmethod
    def non_empty(cls, *fields: str) -> Criterion:
        """Every named output exists and is not empty (None, '', [], {})."""

        def check(outputs: Mapping[str, Any]) -> bool:
            return all(_present(outputs.get(f)) for f in fields)

        return cls(
            name="non_empty(" + ", ".join(fields) + ")",
            check=check,
            description="outputs missing or empty: " + ", ".join(fields),
        )

    @classmethod
    def matches_schema(cls, field: str, schema: type[BaseModel]) -> Criterion:
        """The output validates against a pydantic model."""

        def check(outputs: Mapping[str, Any]) -> bool:
            value = outputs.get(field)
            if isinstance(value, schema):
                return True
            try:
                data = value.model_dump() if isinstance(value, BaseModel) else value
                schema.model_validate(data)
            except ValidationError:
                return False
            return True

        return cls(
            name=f"matches_schema({field}, {schema.__name__})",
            check=check,
            description=f"output '{field}' does not match {schema.__name__}",
        )

    @classmethod
    def of(cls, value: Criterion | Callable[[Mapping[str, Any]], bool]) -> Criterion:
        if isinstance(value, Criterion):
            return value
        if not callable(value):
            raise TypeError(f"success criterion must be callable or a Criterion, got {value!r}")
        name = getattr(value, "__name__", None) or repr(value)
        return cls(name=name, check=value)


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str | list | tuple | dict | set):
        return len(value) > 0
    return True
