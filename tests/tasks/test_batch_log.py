"""A batch logs a handful of lines (start, every 10%, end), never one per document."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from eightflow_app.tasks.batch_log import BatchLog

from eightflow.batch.models import BatchSummary, DocumentOutcome


class Lines(logging.LoggerAdapter):  # type: ignore[type-arg]
    def __init__(self) -> None:
        super().__init__(logging.getLogger("test.batch_log"), {})
        self.lines: list[str] = []

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.lines.append(msg % args)


@pytest.mark.parametrize(("documents", "progress_lines"), [(1, 1), (7, 7), (25, 8), (1000, 10)])
def test_progress_every_ten_percent(documents: int, progress_lines: int) -> None:
    lines = Lines()
    log = BatchLog(lines, documents)
    log.start("document_analysis", "docs", "out")
    summary = BatchSummary(workflow="document_analysis", version="v")
    for i in range(documents):
        outcome = DocumentOutcome(id=f"d{i}", path=f"d{i}", status="needs_review")
        summary.add(outcome)
        log.write(outcome)
    log.close(summary)
    assert lines.lines[0].startswith(f"batch started: document_analysis over {documents} ")
    progress = [line for line in lines.lines if " documents done " in line]
    assert len(progress) == progress_lines
    assert lines.lines[-1].startswith(f"batch ended: {documents} awaiting review; completed 0")


def test_outside_a_flow_run_it_logs_nothing() -> None:
    log = BatchLog(None, 3)
    log.start("w", "f", "o")
    log.write(DocumentOutcome(id="d", path="d", status="completed"))
    log.close(BatchSummary(workflow="w", version="v"))
    assert log.done == 1
