"""No exception from one document ends the batch: load, sink, ledger and cache failures
each become that document's failed row, with the exception type and a one-line reason."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.tasks.loading import load_document

from eightflow.batch import BatchOptions, BatchRunner
from eightflow.batch.models import BatchSummary, DocumentOutcome
from eightflow.pipeline.sinks import FinishedRun, LedgerSink
from eightflow.registry import load_workflow
from tests.support.corpus import write_corpus

pytestmark = pytest.mark.prefect


class ListSink:
    def __init__(self, fail_on: str) -> None:
        self.rows: list[DocumentOutcome] = []
        self.fail_on = fail_on
        self.closed = False

    def write(self, outcome: DocumentOutcome) -> None:
        if outcome.id == self.fail_on and outcome.status == "completed":
            raise ValueError("cannot serialise\nthis row")
        self.rows.append(outcome)

    def close(self, summary: BatchSummary) -> None:
        self.closed = True


async def test_every_kind_of_failure_costs_only_its_own_row(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_corpus(tmp_path / "docs", 6, seed=4)
    ids = [p.name for p in paths]

    def loader(path: Path, root: Path) -> Any:
        if path.name == ids[1]:
            raise LookupError("'rot-13' is not a text encoding")
        return load_document(path, root)

    workflow = load_workflow("document_analysis")()
    record = LedgerSink.write

    async def flaky_record(sink: LedgerSink, finished: FinishedRun) -> None:
        if finished.run.document_id == ids[3]:
            raise sqlite3.OperationalError("database is locked")
        await record(sink, finished)

    monkeypatch.setattr(LedgerSink, "write", flaky_record)
    sink = ListSink(fail_on=ids[2])
    runner = BatchRunner(
        workflow, BatchOptions(concurrency=2), paths, tmp_path / "docs", loader, sinks=[sink]
    )
    put = runner.cache.aput_outcome

    async def flaky_put(key: str, value: str) -> None:  # the outcome's JSON
        if json.loads(value)["id"] == ids[4]:
            raise OSError("disk full")
        await put(key, value)

    runner.cache.aput_outcome = flaky_put  # type: ignore[method-assign]
    summary = await runner.run()

    rows = {row.id: row for row in sink.rows}
    assert set(rows) == set(ids) and sink.closed  # every document has its row, outputs closed
    expected_types = {
        ids[1]: "LookupError",
        ids[2]: "ValueError",
        ids[3]: "OperationalError",
        ids[4]: "OSError",
    }
    for doc, error_type in expected_types.items():
        row = rows[doc]
        assert (row.status, row.error_type) == ("failed", error_type), row
        assert row.error and "\n" not in row.error and error_type in row.error
    assert [rows[d].status for d in (ids[0], ids[5])] == ["completed", "completed"]
    assert (summary.total, summary.completed, summary.failed) == (6, 2, 4)
