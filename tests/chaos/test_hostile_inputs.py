"""A generated hostile corpus and two batches into one folder: nothing ends the batch.

Every hostile file costs exactly its own row (failed, with the exception type and a
one-line reason); every good file beside them completes; all outputs are written.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.chaos.helpers import MODEL, read_rows, run_batch
from tests.chaos.hostile_corpus import write_hostile_corpus
from tests.support import StubConfig, StubProcess
from tests.support.corpus import write_corpus

pytestmark = [pytest.mark.e2e, pytest.mark.prefect]
OUTPUTS = {"results.csv", "results.parquet", "trace.jsonl", "report.md"}


STUB_CONFIG = StubConfig(latency_ms=20)  # for stub_process


@pytest.fixture(scope="module")
def stub(stub_process: StubProcess) -> StubProcess:
    """The module's stub server process (tests/conftest.py ``stub_process``)."""
    return stub_process


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hostile-0123456789abcdef")
    monkeypatch.setenv("EIGHTFLOW_LOADER_TIMEOUT_S", "5")
    monkeypatch.setenv("EIGHTFLOW_LOADER_MEMORY_MB", "512")


async def test_a_hostile_corpus_costs_one_row_per_bad_file(
    stub: StubProcess, tmp_path: Path
) -> None:
    folder = tmp_path / "hostile"
    kinds = write_hostile_corpus(folder, seed=9)
    good = write_corpus(folder / "good", 4, seed=2)
    _state, brief = await run_batch(
        folder, tmp_path / "out", model=MODEL, api_base=stub.api_base, concurrency=8
    )
    rows = read_rows(tmp_path / "out")
    expected_ids = {name for names in kinds.values() for name in names}
    expected_ids |= {f"good/{p.name}" for p in good}
    assert set(rows) == expected_ids  # every file has its row, names intact
    assert {p.name for p in (tmp_path / "out").iterdir()} >= OUTPUTS
    must_fail = kinds["random_bytes"] + kinds["bombs"] + ["deep.html"]
    for doc in must_fail:
        row = rows[doc]
        assert row["status"] == "failed", (doc, row)
        assert row["error"] and "\n" not in row["error"]
    must_complete = kinds["names"] + kinds["charsets"] + [f"good/{p.name}" for p in good]
    assert {d: rows[d]["status"] for d in must_complete} == dict.fromkeys(
        must_complete, "completed"
    )
    # The batch's verdict counts the bad files as their own input's fault, nothing else.
    assert brief["failed"] == sum(r["status"] == "failed" for r in rows.values())
    assert not [r for r in brief["reasons"] if "other than their own input" in r], brief
    assert "deep.html" in str(rows["deep.html"]["id"])
    # The parser either recurses past Python's limit or runs past the time limit first,
    # depending on the machine's speed; either way the worker, not the batch, pays.
    deep = rows["deep.html"]["error"]
    assert "ran past its 5 s limit" in deep or "nested too deeply" in deep, deep


async def test_a_batch_into_a_locked_folder_waits_and_says_so(
    stub: StubProcess,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another batch (here: its lock) owns the folder; this one waits, says so, then runs."""
    import eightflow_app.tasks.out_lock as out_lock

    write_corpus(tmp_path / "docs", 4, seed=1)
    out = tmp_path / "shared-out"
    other = out_lock.OutDirLock(out).acquire()
    say = out_lock._say

    def say_then_let_go(message: str) -> None:
        say(message)  # to stderr, as a user sees it
        other.release()  # the other batch finishes just as this one starts waiting

    monkeypatch.setattr(out_lock, "_say", say_then_let_go)
    state, brief = await run_batch(
        tmp_path / "docs", out, model=MODEL, api_base=stub.api_base, concurrency=4
    )
    assert state.is_completed() and brief["completed"] == 4, state.message
    assert "another batch is writing to" in capfd.readouterr().err


async def test_two_batches_into_one_folder_both_finish_unmixed(
    stub: StubProcess, tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_corpus(first, 6, seed=1)
    write_corpus(second, 9, seed=2)
    out = tmp_path / "shared-out"
    results = await asyncio.gather(
        run_batch(first, out, model=MODEL, api_base=stub.api_base, concurrency=4),
        run_batch(second, out, model=MODEL, api_base=stub.api_base, concurrency=4),
    )
    for state, brief in results:
        assert state.is_completed(), state.message
        assert brief["completed"] == brief["total"]
    rows = read_rows(out)
    # The folder holds one whole batch (whichever wrote last), never a mix of both.
    assert len(rows) in (6, 9) and all(r["status"] == "completed" for r in rows.values())
    assert {p.name for p in out.iterdir()} == OUTPUTS  # no spools, no temp files, no lock file
