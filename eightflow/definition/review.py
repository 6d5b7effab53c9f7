"""Review rules: when a person must look at a step's output, and what they may do.

A :class:`ReviewRule` is declared in the definition, like a criterion. It names a step and
the output it judges, says *when* review is asked (always, a confidence below a threshold,
certain labels, or a :class:`Criterion` on the outputs that fails), *what* the reviewer may
do (approve, edit typed fields of the output's schema, reject with a note) and what happens
when nobody answers in time (approve, reject or fail). It is data: the engine and the
Prefect flow act on it (``eightflow.review``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from eightflow.definition.criteria import Criterion
from eightflow.errors import WorkflowDefinitionError

TimeoutPolicy = Literal["approve", "reject", "fail"]
Decision = Literal["approve", "edit", "reject"]


class ReviewEditError(ValueError):
    """An edit names a field the rule does not allow, or a value its schema rejects."""


class ReviewRule(BaseModel):
    """When a person must review ``output`` of ``step``, and what they may do.

    Triggers (any one asks for review): ``always``; ``confidence_below`` (the output's
    ``confidence_field`` is below it, or missing); ``labels`` (its ``label_field`` is one of
    them); ``criterion`` (the check over all outputs fails). ``enabled=False`` ships a rule
    switched off; ``WorkflowDefinition.with_review_below`` switches confidence rules on.

    Nobody answering within ``timeout_seconds`` applies ``on_timeout``: ``reject`` (the
    default) does not accept the output, the run ends ``needs_review`` and its review
    stays pending for a person; ``approve`` accepts it; ``fail`` fails the run.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    step: str
    output: str
    always: bool = False
    confidence_below: float | None = Field(default=None, ge=0, le=1)
    labels: tuple[str, ...] = ()
    criterion: Criterion | None = None
    confidence_field: str = "confidence"
    label_field: str = "label"
    output_schema: type[BaseModel] | None = None
    editable: tuple[str, ...] = ()
    allow_reject: bool = True
    timeout_seconds: int = Field(default=3600, gt=0)
    on_timeout: TimeoutPolicy = "reject"
    enabled: bool = True

    @model_validator(mode="after")
    def _check(self) -> ReviewRule:
        if not (self.always or self.confidence_below is not None or self.labels or self.criterion):
            raise WorkflowDefinitionError(
                f"review rule '{self.name}' has no trigger: set always, confidence_below, "
                "labels or criterion",
                step=self.step,
            )
        if self.editable and self.output_schema is None:
            raise WorkflowDefinitionError(
                f"review rule '{self.name}' lets reviewers edit fields but has no output_schema",
                step=self.step,
            )
        fields = set(self.output_schema.model_fields) if self.output_schema else set()
        unknown = [f for f in self.editable if f not in fields]
        if unknown:
            raise WorkflowDefinitionError(
                f"review rule '{self.name}': editable fields not in "
                f"{getattr(self.output_schema, '__name__', '?')}: {', '.join(unknown)}",
                step=self.step,
            )
        return self

    @property
    def actions(self) -> tuple[Decision, ...]:
        """What a reviewer may do under this rule."""
        edit: tuple[Decision, ...] = ("edit",) if self.editable else ()
        reject: tuple[Decision, ...] = ("reject",) if self.allow_reject else ()
        return ("approve", *edit, *reject)

    def reasons(self, outputs: Mapping[str, Any]) -> list[str]:
        """Why this rule asks for review of these outputs; empty when it does not."""
        if not self.enabled:
            return []
        value = outputs.get(self.output)
        why = []
        if self.always:
            why.append("review is always required")
        if self.confidence_below is not None:
            confidence = _field(value, self.confidence_field)
            if confidence is None:
                why.append(f"{self.output} reports no {self.confidence_field}")
            elif float(confidence) < self.confidence_below:
                why.append(
                    f"{self.output}.{self.confidence_field} {float(confidence):.3f} "
                    f"< {self.confidence_below}"
                )
        if self.labels:
            label = _field(value, self.label_field)
            if label in self.labels:
                why.append(f"{self.output}.{self.label_field} is '{label}'")
        if self.criterion is not None:
            ok, detail = self.criterion.evaluate(outputs)
            if not ok:
                why.append(f"criterion {self.criterion.name} failed: {detail}")
        return why

    def apply_edits(self, value: Any, edits: Mapping[str, Any]) -> Any:
        """The output with the reviewer's edits, validated by the output's schema."""
        unknown = [f for f in edits if f not in self.editable]
        if unknown:
            allowed = ", ".join(self.editable) or "none"
            raise ReviewEditError(f"not editable: {', '.join(unknown)} (editable: {allowed})")
        if self.output_schema is None:
            raise ReviewEditError(f"review rule '{self.name}' allows no edits")
        data = value.model_dump() if isinstance(value, BaseModel) else dict(value or {})
        try:
            return self.output_schema.model_validate({**data, **edits})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ReviewEditError(f"{where}: {first.get('msg')}") from None

    def fingerprint(self) -> dict[str, Any]:
        """What the definition's version hash covers of this rule."""
        return {
            **self.model_dump(exclude={"criterion", "output_schema"}),
            "criterion": self.criterion.name if self.criterion else None,
            "output_schema": self.output_schema.__name__ if self.output_schema else None,
        }


def _field(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)
