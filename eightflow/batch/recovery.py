"""What a batch does about documents that failed for passing reasons, and about the rest.

- :func:`contained` turns any exception escaping one document's processing into that
  document's failed row (exception type plus a one-line reason): nothing one document
  does can end the batch.
- :func:`is_transient` says whether a failure was only the provider's bad moment (429,
  5xx, timeout, dropped connection, an answer outside the schema), never the input's fault
  nor a permanent error (auth, bad request, unknown model, context too long).
- :func:`merge_attempts` keeps the earlier pass's attempts when a document is run again in
  the final pass, so the trace and summary show every attempt, not only the last one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eightflow.batch.models import DocumentOutcome
from eightflow.errors import (
    ModelPermanentError,
    ModelTemporaryError,
    StepFailed,
    StepTimeout,
    WorkflowError,
)


def one_line(exc: BaseException, limit: int = 200) -> str:
    from eightflow.safety.sanitize import sanitize_text

    text = " ".join(str(exc).split()) or type(exc).__name__
    return sanitize_text(text, limit=limit)


def contained(
    doc_id: str, path: Path, exc: BaseException, stage: str, *, input_error: bool = False
) -> DocumentOutcome:
    """The failed row for a document whose processing raised ``exc`` during ``stage``."""
    return DocumentOutcome(
        id=doc_id,
        path=str(path),
        status="failed",
        error=f"{stage}: {type(exc).__name__}: {one_line(exc)}",
        error_type=type(exc).__name__,
        input_error=input_error,
    )


def is_transient(error: BaseException | None) -> bool:
    """True when ``error`` (or what it wraps) is worth another try once the provider recovers."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, ModelPermanentError):
            return False
        if isinstance(error, ModelTemporaryError | StepTimeout):
            return True
        if isinstance(error, StepFailed | WorkflowError) and error.original is not error:
            error = error.original
            seen += 1
            continue
        return False
    return False


def failed_attempts(outcome: DocumentOutcome) -> int:
    """Attempts of its steps that failed and were tried again (faults it outlasted)."""
    return sum(max(step.attempts - 1, 0) for step in outcome.steps)


def merge_attempts(earlier: DocumentOutcome, later: DocumentOutcome) -> DocumentOutcome:
    """``later``, with the steps' attempts and calls of ``earlier`` kept before its own."""
    before = {step.name: step for step in earlier.steps}
    steps = []
    for step in later.steps:
        old = before.pop(step.name, None)
        if old is None:
            steps.append(step)
            continue
        if old.status == "completed":
            steps.append(old)  # done before; the later run only replayed it from the cache
            continue
        update: dict[str, Any] = {
            "attempts": old.attempts + step.attempts,
            "calls": [*old.calls, *step.calls],
        }
        steps.append(step.model_copy(update=update))
    steps.extend(before.values())  # steps the later run never reached
    merged = later.model_copy(
        update={
            "steps": steps,
            "attempts": sum(step.attempts for step in steps),
            "model_calls": earlier.model_calls + later.model_calls,
            "cost_usd": None
            if earlier.cost_usd is None or later.cost_usd is None
            else earlier.cost_usd + later.cost_usd,
            "duration_ms": earlier.duration_ms + later.duration_ms,
            "final_pass": True,
        }
    )
    merged.faults_outlasted = failed_attempts(merged) if merged.status == "completed" else 0
    return merged
