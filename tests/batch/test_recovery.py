"""Which failures are transient, how a failed row is built, how attempts are merged."""

from __future__ import annotations

from pathlib import Path

import pytest

from eightflow.batch.models import DocumentOutcome
from eightflow.batch.recovery import contained, is_transient, merge_attempts
from eightflow.errors import (
    BudgetExceeded,
    DocumentError,
    ModelOutputError,
    ModelPermanentError,
    ModelTemporaryError,
    StepFailed,
    StepTimeout,
    WorkflowError,
)
from eightflow.runtime.records import ModelCall, StepRecord


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ModelTemporaryError("429"), True),
        (ModelOutputError("outside the schema"), True),
        (StepTimeout("timed out"), True),
        (StepFailed("x", original=ModelTemporaryError("500")), True),
        (StepFailed("x", original=ModelPermanentError("401")), False),
        (ModelPermanentError("unknown model"), False),
        (BudgetExceeded("spent"), False),
        (DocumentError("bad file"), False),
        (WorkflowError("handler bug", original=KeyError("k")), False),
        (None, False),
    ],
)
def test_is_transient(error: BaseException | None, transient: bool) -> None:
    assert is_transient(error) is transient


def test_contained_row_names_the_type_and_one_line_reason() -> None:
    exc = LookupError("'rot-13' is not\na text encoding")
    row = contained("a.html", Path("/d/a.html"), exc, "loading", input_error=True)
    assert (row.status, row.error_type, row.input_error) == ("failed", "LookupError", True)
    assert row.error == "loading: LookupError: 'rot-13' is not a text encoding"


def _call(attempt: int, error: str | None) -> ModelCall:
    from datetime import UTC, datetime

    return ModelCall(
        model="m", provider="p", attempt=attempt, started=datetime.now(UTC), error_type=error
    )


def test_merge_keeps_every_attempt_of_both_passes() -> None:
    done = StepRecord(name="a", status="completed", attempts=1, calls=[_call(1, None)])
    failed = StepRecord(
        name="b",
        status="failed",
        attempts=3,
        calls=[_call(i, "ModelTemporaryError") for i in (1, 2, 3)],
    )
    earlier = DocumentOutcome(
        id="d", path="d", status="failed", steps=[done, failed], model_calls=4
    )
    replayed = StepRecord(name="a", status="completed", attempts=1, calls=[_call(1, None)])
    fixed = StepRecord(name="b", status="completed", attempts=1, calls=[_call(1, None)])
    later = DocumentOutcome(
        id="d", path="d", status="completed", steps=[replayed, fixed], model_calls=1
    )
    merged = merge_attempts(earlier, later)
    a, b = merged.steps
    assert a is done  # completed before: the later run only replayed it from the cache
    assert b.attempts == 4 and len(b.calls) == 4
    assert (merged.attempts, merged.model_calls, merged.faults_outlasted) == (5, 5, 3)
    assert merged.final_pass and merged.status == "completed"
