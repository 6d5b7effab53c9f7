"""``Context`` and ``StepResult``: the data that flows between steps.

A step's context holds the workflow inputs plus the outputs of the steps it depends on,
directly or through others, and nothing else: reading an output the step did not declare
a dependency on is an error rather than a race.

A run may open a :class:`ContextScope` (a dynamic workflow's loop does): a ``Context()``
built inside it starts from the workflow's inputs, as the seed's ``context = Context()``
expects, and a prompt rendered from it may get variables the scope supplies (the planner's
registry and state).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, Protocol

from eightflow.errors import ContextKeyError


class StepResult:
    """What a handler returns: named outputs that merge into dependents' contexts.

    ``StepResult(summary="...", topics=[...])``. ``skipped`` is set by recovery when a
    failed step was replaced by default outputs.
    """

    __slots__ = ("outputs", "skipped")

    def __init__(self, **outputs: Any) -> None:
        self.outputs: dict[str, Any] = outputs
        self.skipped = False

    def __getattr__(self, name: str) -> Any:
        try:
            return self.outputs[name]
        except KeyError:
            raise AttributeError(f"StepResult has no output '{name}'") from None

    def __getitem__(self, name: str) -> Any:
        return self.outputs[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StepResult) and other.outputs == self.outputs

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={_short(v)}" for k, v in self.outputs.items())
        return f"StepResult({inner})"

    @classmethod
    def skipped_with(cls, outputs: Mapping[str, Any]) -> StepResult:
        result = cls(**outputs)
        result.skipped = True
        return result


class ContextScope(Protocol):
    """The run a ``Context`` was built in: its inputs, and variables for its prompts."""

    @property
    def inputs(self) -> Mapping[str, Any]: ...

    def prompt_variables(self, prompt_id: str, context: Context) -> dict[str, Any]: ...


current_scope: ContextVar[ContextScope | None] = ContextVar("eightflow_scope", default=None)


class Context(Mapping[str, Any]):
    """Inputs and upstream outputs, read as attributes (``context.document``) or keys.

    A missing name raises :class:`ContextKeyError` naming the step and the name, never
    returns None: a typo in a handler should fail loudly on its first run.
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        step: str | None = None,
        **values: Any,
    ) -> None:
        scope = current_scope.get()
        if data is None and not values and step is None and scope is not None:
            data = scope.inputs  # ``Context()`` inside a run: the workflow's inputs
        object.__setattr__(self, "_data", {**(data or {}), **values})
        object.__setattr__(self, "_step", step)
        object.__setattr__(self, "_scope", scope)

    @property
    def step(self) -> str | None:
        """The step this context was built for (None outside a run)."""
        return self._step

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Context is read-only inside a step; return a StepResult instead")

    def __getitem__(self, name: str) -> Any:
        data: dict[str, Any] = self._data
        if name in data:
            return data[name]
        where = f"step '{self._step}'" if self._step else "the context"
        known = ", ".join(sorted(data)) or "nothing"
        raise ContextKeyError(
            f"{where} has no '{name}' in its context (it holds: {known}); add the step that "
            f"produces it to depends_on, or pass it as a workflow input",
            step=self._step,
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def get(self, name: str, default: Any = None) -> Any:
        return self._data.get(name, default)

    def update(self, results: Mapping[str, Any] | StepResult | list[StepResult]) -> None:
        """Merge outputs in (used by dynamic workflows between planning rounds)."""
        items: list[Mapping[str, Any]]
        if isinstance(results, StepResult):
            items = [results.outputs]
        elif isinstance(results, list):
            items = [r.outputs if isinstance(r, StepResult) else r for r in results]
        else:
            items = [results]
        for item in items:
            self._data.update(item)

    def for_step(self, step: str, names: set[str] | None = None) -> Context:
        """A copy scoped to ``step``, optionally holding only ``names``."""
        data = self._data if names is None else {k: v for k, v in self._data.items() if k in names}
        return Context(dict(data), step=step)

    def prompt_variables(self, prompt_id: str, names: Iterable[str]) -> dict[str, Any]:
        """What a prompt gets when it is rendered from this context (``generate(p, ctx)``).

        The values of ``names`` this context holds, plus whatever the run's scope supplies
        for that prompt, which wins (a planner's excerpt of the document, say).
        """
        values = {name: self._data[name] for name in names if name in self._data}
        if self._scope is not None:
            values.update(self._scope.prompt_variables(prompt_id, self))
        return values

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={_short(v)}" for k, v in self._data.items())
        return f"Context(step={self._step!r}, {inner})"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
