"""The batch progress bar counts documents waiting for people, not only the completed."""

from __future__ import annotations

from rich.console import Console

from eightflow.batch.models import BatchSummary, DocumentOutcome
from eightflow.cli.progress import BatchProgress


def test_the_progress_bar_counts_documents_awaiting_review() -> None:
    summary = BatchSummary(workflow="w", version="v", expected=2)
    progress = BatchProgress(Console(record=True), enabled=False, expected=2)
    for status in ("needs_review", "completed"):
        outcome = DocumentOutcome(id=status, path=status, status=status)  # type: ignore[arg-type]
        summary.add(outcome)
        progress.update(summary, outcome)
    detail = progress.progress.tasks[0].fields["detail"]
    assert detail.startswith("ok 1  awaiting review 1  failed 0")
