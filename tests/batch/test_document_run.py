"""One document of a batch before its pipeline runs: nothing starts on a spent budget, and a
file the loader refuses (or a loader that breaks) is that document's failed row, with why.
(Documents that run, fail in a sink or come from cache: test_containment.py, test_cached.py.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eightflow.batch import BatchOptions, BatchRunner
from eightflow.batch.document_run import process_document
from eightflow.errors import DocumentError
from eightflow.registry import load_workflow


def _refuses(path: Path, root: Path) -> Any:
    raise DocumentError("not a PDF: the header says HTML", path=str(path))


def _breaks(path: Path, root: Path) -> Any:
    raise LookupError("'rot-13' is not a text encoding")


def _never(path: Path, root: Path) -> Any:
    raise AssertionError("a spent budget must not load the document")


@pytest.mark.parametrize(
    ("loader", "spent", "status", "error", "error_type", "input_error"),
    [
        (_never, True, "unprocessed", "budget exhausted before this document started", None,
         False),
        (_refuses, False, "failed", "not a PDF: the header says HTML", "DocumentError", True),
        (_breaks, False, "failed", "'rot-13' is not a text encoding", "LookupError", True),
    ],
)  # fmt: skip
async def test_a_document_that_does_not_start_has_its_row(
    home: Path,
    tmp_path: Path,
    loader: Any,
    spent: bool,
    status: str,
    error: str,
    error_type: str | None,
    input_error: bool,
) -> None:
    path = tmp_path / "docs" / "a.txt"
    path.parent.mkdir()
    path.write_text("hello")
    options = BatchOptions(concurrency=1, max_cost_usd=0.01, refresh=True)
    workflow = load_workflow("document_analysis")()
    runner = BatchRunner(workflow, options, [path], path.parent, loader)
    if spent:
        runner.budget.exhausted = "max_cost_usd"
    outcome = await process_document(runner, path)
    assert (outcome.id, outcome.status, outcome.error_type) == ("a.txt", status, error_type)
    assert error in (outcome.error or "")
    assert outcome.input_error is input_error
    assert (outcome.sha256 is None) is spent  # a started document names its content
