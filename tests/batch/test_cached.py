"""Documents served from cache: their ledger runs go to the ledger in groups, and a ledger
that cannot record them fails the batch's report, never the documents' rows."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.tasks.loading import load_document

from eightflow.batch import BatchOptions, BatchRunner
from eightflow.batch.cached import LedgerGroup, file_sha256
from eightflow.registry import load_workflow
from eightflow.runtime.records import WorkflowResult
from tests.support.corpus import write_corpus
from tests.support.outcome_rows import Rows


class FakeLedger:
    """Records each group handed over; commits only when the test says so."""

    def __init__(self, fail_groups: tuple[int, ...] = ()) -> None:
        self.groups: list[list[str]] = []
        self.pending: list[Future[None]] = []
        self.fail_groups = fail_groups

    def submit_runs(self, runs: list[tuple[WorkflowResult, dict[str, Any]]]) -> Future[None]:
        self.groups.append([details["document_id"] for _, details in runs])
        future: Future[None] = Future()
        if len(self.groups) - 1 in self.fail_groups:
            future.set_exception(sqlite3.OperationalError("database or disk is full"))
        else:
            self.pending.append(future)
        return future

    def commit_all(self) -> None:
        for future in self.pending:
            if not future.done():
                future.set_result(None)


def _run(doc: str) -> tuple[WorkflowResult, dict[str, Any]]:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    result = WorkflowResult(
        run_id=doc, workflow="w", version="v", status="completed", started=now, finished=now,
        duration_ms=0.0,
    )  # fmt: skip
    return result, {"document_id": doc}


async def record(group: LedgerGroup, doc: str) -> None:
    result, details = _run(doc)
    await group.record(result, **details)


async def test_runs_go_to_the_ledger_a_group_at_a_time() -> None:
    ledger = FakeLedger()
    group = LedgerGroup(lambda: ledger, size=3)
    for i in range(7):
        if i == 6:  # the third group would wait for the first's commit: let it through
            ledger.commit_all()
        await record(group, f"d{i}")
    assert ledger.groups == [["d0", "d1", "d2"], ["d3", "d4", "d5"]]
    closing = asyncio.ensure_future(group.close())
    await asyncio.sleep(0.01)
    assert ledger.groups[-1] == ["d6"] and not closing.done()  # close waits for the commit
    ledger.commit_all()
    assert await closing == (0, None)


async def test_no_more_than_two_groups_wait_for_their_commit() -> None:
    ledger = FakeLedger()
    group = LedgerGroup(lambda: ledger, size=2)
    for i in range(4):
        await record(group, f"d{i}")
    third = asyncio.ensure_future(record(group, "d4"))
    fourth = asyncio.ensure_future(record(group, "d5"))
    await asyncio.sleep(0.01)
    assert len(ledger.groups) == 3 and not fourth.done()  # held until the oldest commits
    ledger.commit_all()
    await asyncio.gather(third, fourth)
    await group.close()


async def test_a_group_that_cannot_be_committed_is_counted_and_the_rest_go_on() -> None:
    ledger = FakeLedger(fail_groups=(0,))
    group = LedgerGroup(lambda: ledger, size=2)
    for i in range(5):
        await record(group, f"d{i}")
    ledger.commit_all()
    closing = asyncio.ensure_future(group.close())
    await asyncio.sleep(0.01)
    ledger.commit_all()
    assert await closing == (2, "OperationalError: database or disk is full")
    assert sum(map(len, ledger.groups)) == 5
    assert await group.close() == (0, None)  # counted once


async def test_a_ledger_that_cannot_be_opened_is_counted() -> None:
    def broken() -> Any:
        raise sqlite3.OperationalError("unable to open database file")

    group = LedgerGroup(broken, size=10)
    await record(group, "d0")
    unrecorded, error = await group.close()
    assert unrecorded == 1 and "unable to open" in (error or "")


@pytest.mark.prefect
async def test_a_rerun_whose_ledger_fails_keeps_its_rows_and_says_so(
    home: Path, tmp_path: Path
) -> None:
    paths = write_corpus(tmp_path / "docs", 4, seed=7)
    workflow = load_workflow("document_analysis")()

    def runner(sink: Rows) -> BatchRunner:
        return BatchRunner(
            workflow, BatchOptions(concurrency=2), paths, tmp_path / "docs", load_document,
            sinks=[sink],
        )  # fmt: skip

    first = await runner(Rows()).run()
    assert first.completed == 4 and not first.criteria()

    again, rows = runner(Rows()), Rows()
    again.sinks = [rows]
    broken = FakeLedger(fail_groups=(0,))
    again.cached_runs = LedgerGroup(lambda: broken)
    summary = await again.run()
    assert [r.status for r in rows.rows] == ["completed"] * 4
    assert all(r.cache_hit for r in rows.rows) and summary.cache_hits == 4
    assert summary.ledger_unrecorded == 4
    assert summary.criteria() == [
        "4 runs of documents served from cache are not in the ledger "
        "(OperationalError: database or disk is full)"
    ]
    assert summary.brief()["ledger_unrecorded"] == 4 and not summary.brief()["success"]


@pytest.mark.parametrize("size", [0, 1, 100, (1 << 20) + 7])
def test_file_sha256_reads_every_byte(tmp_path: Path, size: int) -> None:
    import hashlib

    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert file_sha256(tmp_path / "missing") is None


async def test_a_cancelled_document_does_not_cancel_its_groups_commit() -> None:
    ledger = FakeLedger()
    group = LedgerGroup(lambda: ledger, size=1, wait=True)
    waiting = asyncio.ensure_future(record(group, "d0"))
    await asyncio.sleep(0.01)
    waiting.cancel()  # say, the final pass gave up on this document
    await asyncio.gather(waiting, return_exceptions=True)
    assert not ledger.pending[0].cancelled()  # the commit goes on
    ledger.commit_all()
    assert await group.close() == (0, None)


async def test_with_wait_each_document_returns_once_its_run_is_committed() -> None:
    ledger = FakeLedger()
    group = LedgerGroup(lambda: ledger, wait=True)
    first = asyncio.ensure_future(record(group, "d0"))
    await asyncio.sleep(0.01)
    assert ledger.groups == [["d0"]] and not first.done()
    ledger.commit_all()
    await first


def test_the_ledger_writer_survives_a_caller_that_stopped_waiting(tmp_path: Path) -> None:
    from eightflow.store.ledger import Ledger

    ledger = Ledger(tmp_path / "ledger.sqlite")
    with ledger._tx():  # the writer takes r0, then waits for this transaction
        first = ledger.submit_runs([_run("r0")])
        time.sleep(0.2)
        gave_up = ledger.submit_runs([_run("r1")])
        assert gave_up.cancel()  # a document cancelled while it waited
        kept = ledger.submit_runs([_run("r2")])
    first.result(timeout=30)
    kept.result(timeout=30)
    ledger.flush()  # the writer thread is still there
    assert all(ledger.run(r) is not None for r in ("r0", "r1", "r2"))
    ledger.close()
