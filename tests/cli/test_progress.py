"""What ``eightflow analyze`` prints: the progress bar and the batch summary."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from eightflow.batch.models import BatchSummary, DocumentOutcome
from eightflow.cli.progress import BatchProgress, print_batch


def _printed(brief: dict[str, object]) -> str:
    buffer = io.StringIO()
    print_batch(brief, Console(file=buffer, width=300, color_system=None))
    return buffer.getvalue()


def test_a_batch_that_could_not_be_polled_is_a_line_of_the_summary() -> None:
    brief = {**BatchSummary(workflow="w", version="v").brief(), "out": "/tmp/out"}
    comparison = {"waves": [], "batches": 0, "cost_usd": 0.0, "online_cost_usd": 0.0}
    quiet = _printed({**brief, "batch_api": {**comparison, "lost_batches": []}})
    assert "could not be polled" not in quiet
    lost = {"batch_id": "batch_9[red]", "lines": 3, "why": "earlier batch unavailable: X",
            "resent_online": True}  # fmt: skip
    said = _printed({**brief, "batch_api": {**comparison, "lost_batches": [lost]}})
    assert (
        "batch batch_9[red] could not be polled (earlier batch unavailable: X): its 3 lines "
        "were sent online, at the online price"
    ) in said


def test_the_progress_bar_counts_documents_awaiting_review() -> None:
    summary = BatchSummary(workflow="w", version="v", expected=2)
    progress = BatchProgress(Console(record=True), enabled=False, expected=2)
    for status in ("needs_review", "completed"):
        outcome = DocumentOutcome(id=status, path=status, status=status)  # type: ignore[arg-type]
        summary.add(outcome)
        progress.update(summary, outcome)
    detail = progress.progress.tasks[0].fields["detail"]
    assert detail.startswith("ok 1  awaiting review 1  failed 0")


def test_a_batch_waiting_for_people_points_at_its_review_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import eightflow.review.requests

    page = "http://127.0.0.1:4377/runs/flow-run/{}".format  # the run page: its Resume
    monkeypatch.setattr(eightflow.review.requests, "run_page", page)
    brief = {**BatchSummary(workflow="w", version="v").brief(), "out": "/tmp/out"}
    brief["needs_review_ids"] = ["a.md"]
    said = _printed({**brief, "review_queue_run": "0b1c"})
    assert "or in the UI's review queue: http://127.0.0.1:4377/runs/flow-run/0b1c" in said
    assert "review queue" not in _printed({**brief, "review_queue_run": None})
