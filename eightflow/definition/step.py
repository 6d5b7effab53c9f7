"""Steps: the nodes of a workflow graph.

A :class:`Step` names a handler (an async or sync callable taking a ``Context`` and
returning a ``StepResult``) or a :class:`ParallelStep` of sub-steps. Steps are frozen
pydantic models so that a definition can be hashed, compared and shown without running it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from eightflow.definition.policy import RetryPolicy

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")

Handler = Callable[..., Any]


class ParallelStep(BaseModel):
    """Sub-steps that run concurrently; the enclosing step finishes when all of them do."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    steps: tuple[Step, ...]

    def __init__(self, steps: Sequence[Step] | None = None, /, **data: Any) -> None:
        if steps is not None:
            data["steps"] = tuple(steps)
        super().__init__(**data)


class Step(BaseModel):
    """One unit of work in a workflow.

    ``depends_on`` names steps (or parallel groups) that must finish first; a step starts as
    soon as they have. ``outputs`` optionally declares the fields the handler returns, which
    lets output collisions be caught when the definition is built rather than at run time.
    ``model`` pins the step to a model; ``prompts`` names the prompt ids it uses so that the
    definition's version hash changes when those prompts do. ``observe=False`` keeps the
    step's input out of traces (for steps that see sensitive data).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    handler: Handler | ParallelStep
    depends_on: tuple[str, ...] = ()
    retry_policy: RetryPolicy | None = None
    timeout_seconds: float | None = Field(default=None, gt=0)
    outputs: tuple[str, ...] = ()
    model: str | None = None
    prompts: tuple[str, ...] = ()
    description: str = ""
    observe: bool = True

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"step name {value!r} must start with a letter or '_' and hold only letters, "
                "digits, '_' and '-'"
            )
        return value

    @field_validator("depends_on", "outputs", "prompts", mode="before")
    @classmethod
    def _tuple(cls, value: Any) -> Any:
        if isinstance(value, str):
            return (value,)
        return tuple(value) if value is not None else ()

    @field_validator("handler")
    @classmethod
    def _callable(cls, value: Any) -> Any:
        if not isinstance(value, ParallelStep) and not callable(value):
            raise ValueError("handler must be a callable or a ParallelStep")
        return value

    @property
    def is_parallel(self) -> bool:
        return isinstance(self.handler, ParallelStep)

    @property
    def substeps(self) -> tuple[Step, ...]:
        return self.handler.steps if isinstance(self.handler, ParallelStep) else ()

    def walk(self) -> Iterator[Step]:
        """This step and every sub-step below it, depth first."""
        yield self
        for sub in self.substeps:
            yield from sub.walk()

    def handler_name(self) -> str:
        if isinstance(self.handler, ParallelStep):
            return "parallel(" + ", ".join(s.name for s in self.handler.steps) + ")"
        fn = getattr(self.handler, "__func__", self.handler)
        return getattr(fn, "__qualname__", repr(fn))


ParallelStep.model_rebuild()
