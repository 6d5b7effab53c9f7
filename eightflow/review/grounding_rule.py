"""Grounding as a review rule: every model answer of a run is checked against its document.

The run pipeline's review step calls :func:`ground_run` on every finished run (a single
run, a batch document, a planner-driven run, a replay) whose inputs hold a ``document``
text. Each step that asked a model and completed has its outputs checked with
:func:`eightflow.review.grounding.check_answer` (deterministic, no model call):

- the step's trace gets ``notes["grounding"] = {"grounded", "checked", "reasons"}`` (only
  when something was checkable), which the trace, ``trace.jsonl`` and the ledger's step
  row keep, and which ``eightflow report`` reads for the grounded rate per model and
  prompt version;
- the run gets ``grounded``: False when any step's answer is not grounded, True when every
  checkable answer is, None when nothing was checkable (or the run has no document);
- with review on, each ungrounded step asks for a person under a rule named
  :data:`GROUNDING_RULE`, with the reason ``ungrounded: ...`` (approve or reject; its wait
  and what a timeout does are those of the workflow's first enabled review rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eightflow.definition import WorkflowDefinition
from eightflow.definition.review import ReviewRule
from eightflow.review.grounding import Grounding, GroundingDocument, check_answer
from eightflow.review.requests import ReviewRequest, request_for
from eightflow.runtime.records import StepRecord, WorkflowResult
from eightflow.safety.sanitize import sanitize_text

GROUNDING_RULE = "grounding"
#: A document longer than this is checked off the event loop (a thread).
INLINE_CHARS = 200_000


@dataclass
class Ungrounded:
    """One step whose answer is not grounded: the output a person is shown, and why."""

    step: str
    output: str
    grounding: Grounding


@dataclass
class RunGrounding:
    """What the check found in one run."""

    grounded: bool | None = None
    ungrounded: list[Ungrounded] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(u.grounding.reason for u in self.ungrounded)


def document_text(inputs: dict[str, Any]) -> str | None:
    """The run's document text (the Context's ``document``), or None."""
    document = inputs.get("document")
    text = getattr(document, "text", document)
    return text if isinstance(text, str) and text.strip() else None


def ground_run(result: WorkflowResult, text: str) -> RunGrounding:
    """Check every completed model step's outputs; note each step; set ``result.grounded``."""
    document = GroundingDocument(text)
    found = RunGrounding()
    for record in result.steps:
        if record.status != "completed" or not record.calls:
            continue  # not a model's answer (a compilation step), or none to check
        outputs = {k: result.outputs[k] for k in record.output_keys if k in result.outputs}
        checks = {name: check_answer({name: value}, document) for name, value in outputs.items()}
        checked = sum(c.checked for c in checks.values())
        if not checked:
            continue
        reasons = tuple(dict.fromkeys(r for c in checks.values() for r in c.reasons))
        _note(record, not reasons, checked, reasons)
        if reasons:
            output = next(name for name, c in checks.items() if not c.grounded)
            merged = Grounding(grounded=False, reasons=reasons[:5], checked=checked)
            found.ungrounded.append(Ungrounded(record.name, output, merged))
        found.grounded = not found.ungrounded
    result.grounded = found.grounded
    return found


def _note(record: StepRecord, grounded: bool, checked: int, reasons: tuple[str, ...]) -> None:
    # Reasons quote the answer: sanitized, as everything a trace keeps.
    record.notes["grounding"] = {
        "grounded": grounded,
        "checked": checked,
        "reasons": [sanitize_text(r, limit=300) for r in reasons],
    }


def grounding_rule(definition: WorkflowDefinition, step: str, output: str) -> ReviewRule:
    """The rule an ungrounded answer is reviewed under: approve or reject, no edits."""
    base = next((r for r in definition.review if r.enabled), None)
    return ReviewRule(
        name=GROUNDING_RULE,
        step=step,
        output=output,
        always=True,
        timeout_seconds=base.timeout_seconds if base else 3600,
        on_timeout=base.on_timeout if base else "reject",
    )


def grounding_requests(
    definition: WorkflowDefinition, result: WorkflowResult, found: RunGrounding
) -> list[tuple[ReviewRule, ReviewRequest]]:
    """A review request per ungrounded step, with the reason ``ungrounded: ...``."""
    if not result.ok:
        return []
    asked = []
    for item in found.ungrounded:
        rule = grounding_rule(definition, item.step, item.output)
        reason = sanitize_text(item.grounding.reason, limit=500)
        asked.append((rule, request_for(rule, result, [reason])))
    return asked
