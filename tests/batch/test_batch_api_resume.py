"""Batch API mode survives ``kill -9`` while waiting: the re-run polls the same batch.

The first ``eightflow analyze --mode batch-api`` submits wave 1 to the stub's Batch API,
whose batches are held "in progress"; it is killed while polling. The re-run must find
the batch in the ledger, poll it instead of submitting the lines again, and end with the
same results as an uninterrupted run.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import StubProcess
from tests.support.corpus import write_corpus
from tests.support.stub_server import http_json

pytestmark = [pytest.mark.e2e, pytest.mark.prefect]

N_DOCS = 4
CALLS_PER_DOC = 4
CONTENT_COLUMNS = [
    "id", "status", "error", "summary", "topics", "sentiment_label", "sentiment_score",
    "entities", "tokens_in", "tokens_out", "attempts",
]  # fmt: skip


@pytest.fixture
def stub(stub_process: StubProcess) -> StubProcess:
    """The module's stub server process (tests/conftest.py ``stub_process``)."""
    return stub_process


def batch_control(stub: StubProcess, path: str, body: Any = None) -> dict[str, Any]:
    method = "GET" if body is None else "POST"
    return dict(http_json(method, f"{stub.url}/_stub/batches/{path}", body))


def env_for(home: Path) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return {
        **os.environ,
        "EIGHTFLOW_HOME": str(home),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "OPENAI_API_KEY": "sk-test-batch-resume-0123456789abcdef",
        "EIGHTFLOW_BATCH_POLL_S": "0.1",
    }


def analyze(
    folder: Path, out: Path, home: Path, stub: StubProcess, mode: str = "batch-api"
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "eightflow.cli.main", "analyze", str(folder), "--out", str(out),
        "--model", "openai/gpt-4o-mini", "--api-base", stub.api_base, "--mode", mode,
    ]  # fmt: skip
    with (out.parent / f"{out.name}.log").open("wb") as log:
        return subprocess.Popen(command, env=env_for(home), stdout=log, stderr=subprocess.STDOUT)


def finish(process: subprocess.Popen[bytes], out: Path, timeout: float = 240) -> None:
    process.wait(timeout)
    log = (out.parent / f"{out.name}.log").read_text(errors="replace")[-3000:]
    assert process.returncode == 0, log


def open_batches(home: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "eightflow.cli.main", "batches", "--json"],
        env=env_for(home),
        capture_output=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(result.stdout))


def recorded_batches(home: Path) -> int:
    try:
        with sqlite3.connect(home / "ledger.sqlite") as db:
            return int(db.execute("SELECT COUNT(*) FROM provider_batches").fetchone()[0])
    except sqlite3.Error:
        return 0


def content(out: Path) -> dict[str, dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        return {row["id"]: {c: row[c] for c in CONTENT_COLUMNS} for row in csv.DictReader(fh)}


def test_kill_9_while_waiting_then_rerun_resubmits_nothing(
    tmp_path: Path, stub: StubProcess
) -> None:
    folder = tmp_path / "docs"
    write_corpus(folder, N_DOCS)
    home = tmp_path / "home"
    batch_control(stub, "config", {"completion_delay_s": 3600})

    # 1. submit wave 1, then kill -9 while the run polls the batch
    process = analyze(folder, tmp_path / "out1", home, stub)
    deadline = time.monotonic() + 180
    while recorded_batches(home) == 0 and process.poll() is None:
        assert time.monotonic() < deadline, "no batch was recorded in the ledger"
        time.sleep(0.1)
    time.sleep(1.0)  # a few polls
    assert process.poll() is None, "the run ended instead of waiting for its batch"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    stats = batch_control(stub, "stats")
    assert stats["batches_created"] == 1
    assert stats["lines_submitted"] == N_DOCS * 3  # summarization, sentiment, entities
    assert stub.stats()["calls"] == 0  # nothing answered, nothing paid yet

    # `eightflow batches` shows it, open, with its counts
    listed = open_batches(home)
    assert len(listed) == 1
    assert listed[0]["state"] in ("submitted", "validating", "in_progress")
    assert listed[0]["total"] == N_DOCS * 3 and listed[0]["wave"] == 1

    # 2. the provider finishes; the re-run polls the same batch and submits only wave 2
    batch_control(stub, "config", {"completion_delay_s": 0})
    finish(analyze(folder, tmp_path / "out2", home, stub), tmp_path / "out2")
    stats = batch_control(stub, "stats")
    assert stats["batches_created"] == 2
    assert stats["lines_submitted"] == N_DOCS * CALLS_PER_DOC  # wave 1 not resubmitted
    assert stub.stats()["calls"] == N_DOCS * CALLS_PER_DOC  # each line answered once
    assert open_batches(home) == []

    # 3. the same results as an uninterrupted online run
    finish(
        analyze(folder, tmp_path / "out3", tmp_path / "fresh", stub, mode="online"),
        tmp_path / "out3",
    )
    resumed = content(tmp_path / "out2")
    assert all(row["status"] == "completed" for row in resumed.values())
    assert resumed == content(tmp_path / "out3")
