"""Crash and resume: ``kill -9`` an ``eightflow analyze`` mid-batch, then run it again.

A finished document's outcome is committed before it counts as finished, so the re-run
must send none of its requests again, and must end with the same results as a run that
was never interrupted.
"""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import StubConfig, StubProcess
from tests.support.corpus import write_corpus

pytestmark = [pytest.mark.e2e, pytest.mark.prefect]

N_DOCS = 40
CALLS_PER_DOC = 4
CONTENT_COLUMNS = [
    "id", "status", "error", "summary", "topics", "sentiment_label", "sentiment_score",
    "entities", "tokens_in", "tokens_out", "attempts",
]  # fmt: skip


STUB_CONFIG = StubConfig(latency_ms=50)  # for stub_process


@pytest.fixture
def stub(stub_process: StubProcess) -> StubProcess:
    """The module's stub server process (tests/conftest.py ``stub_process``)."""
    return stub_process


def analyze(folder: Path, out: Path, home: Path, stub: StubProcess) -> subprocess.Popen[bytes]:
    """``eightflow analyze`` in a child process, on the session's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    env = {
        **os.environ,
        "EIGHTFLOW_HOME": str(home),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "OPENAI_API_KEY": "sk-test-resume-0123456789abcdef",
    }
    command = [
        sys.executable, "-m", "eightflow.cli.main", "analyze", str(folder), "--out", str(out),
        "--model", "openai/gpt-4o-mini", "--api-base", stub.api_base, "--concurrency", "4",
    ]  # fmt: skip
    # Output to a file, not a pipe: nobody reads a pipe while the batch runs.
    with (out.parent / f"{out.name}.log").open("wb") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def log_of(out: Path) -> str:
    return (out.parent / f"{out.name}.log").read_text(errors="replace")[-3000:]


def finish(process: subprocess.Popen[bytes], out: Path, timeout: float = 240) -> None:
    process.wait(timeout)
    assert process.returncode == 0, log_of(out)


def content(out: Path) -> dict[str, dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        return {row["id"]: {c: row[c] for c in CONTENT_COLUMNS} for row in csv.DictReader(fh)}


def finished_documents(home: Path, folder: Path) -> set[str]:
    """Documents whose outcome was committed to the cache (keys start with the sha256)."""
    with sqlite3.connect(home / "cache.sqlite") as db:
        keys = [row[0] for row in db.execute("SELECT key FROM outcomes")]
    by_sha = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in folder.iterdir()}
    return {by_sha[key.split(":", 1)[0]] for key in keys}


def owner(request: dict[str, Any], titles: dict[str, str], summaries: dict[str, str]) -> str:
    """The document a stub request was for: its text (title line) or, for topics, its summary."""
    text = request["messages"][-1]["content"]
    found = {doc for doc, title in titles.items() if title in text}
    found |= {doc for doc, summary in summaries.items() if summary in text}
    assert len(found) == 1, f"cannot attribute request {request['digest']}: {found}"
    return found.pop()


def test_kill_9_then_resume_repeats_no_finished_document(tmp_path: Path, stub: StubProcess) -> None:
    folder = tmp_path / "docs"
    paths = write_corpus(folder, N_DOCS)
    titles = {p.name: p.read_text().splitlines()[0] for p in paths}  # "Report 7: ..."
    assert len(set(titles.values())) == N_DOCS
    home = tmp_path / "home"

    # 1. start, and kill -9 once at least 40 requests went out
    process = analyze(folder, tmp_path / "out1", home, stub)
    deadline = time.monotonic() + 120
    while stub.stats()["calls"] < 40 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if process.poll() is not None:
        output = process.communicate()[0].decode(errors="replace")
        pytest.fail(
            f"the batch ended (exit {process.returncode}) before the kill:\n{output[-3000:]}"
        )
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    assert process.returncode == -signal.SIGKILL
    first = stub.history(limit=10_000)
    calls_first = stub.stats()["calls"]
    finished = finished_documents(home, folder)
    assert 0 < len(finished) < N_DOCS, finished

    # No half-written results: the killed run left no results.csv, or a complete one.
    out1 = tmp_path / "out1" / "results.csv"
    assert not out1.exists() or len(content(tmp_path / "out1")) == N_DOCS

    # 2. resume into another folder, same EIGHTFLOW_HOME
    stub.reset()
    finish(analyze(folder, tmp_path / "out2", home, stub), tmp_path / "out2")
    second = stub.history(limit=10_000)
    calls_second = stub.stats()["calls"]
    resumed = content(tmp_path / "out2")
    summaries = {doc: row["summary"] for doc, row in resumed.items()}

    assert all(row["status"] == "completed" for row in resumed.values())
    repeated = sorted({owner(r, titles, summaries) for r in second} & finished)
    assert repeated == [], f"finished documents sent again: {repeated}"
    # Each finished document's requests were made once, in the first run only.
    for doc in finished:
        assert sum(owner(r, titles, summaries) == doc for r in first) == CALLS_PER_DOC
    assert calls_second <= CALLS_PER_DOC * (N_DOCS - len(finished))
    assert calls_first + calls_second < 2 * CALLS_PER_DOC * N_DOCS

    # 3. the same results as a run that was never interrupted
    stub.reset()
    finish(analyze(folder, tmp_path / "out3", tmp_path / "fresh-home", stub), tmp_path / "out3")
    assert stub.stats()["calls"] == CALLS_PER_DOC * N_DOCS
    assert resumed == content(tmp_path / "out3")
