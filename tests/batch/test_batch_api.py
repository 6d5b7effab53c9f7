"""``mode: batch-api``: waves through a provider Batch API (the stub's), same outputs as online.

The stub server answers Files + Batches over real HTTP through litellm's file and batch
functions; its counters say how many files and batches each run created.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eightflow.testing import StubConfig, StubServer
from eightflow.testing.corpus import write_corpus
from eightflow.testing.stub_server import http_json
from flows.batch_documents import BatchParams, batch_documents

MODEL = "openai/gpt-4o-mini"
CONTENT_COLUMNS = [
    "id", "status", "error", "summary", "topics", "sentiment_label", "sentiment_score",
    "entities", "tokens_in", "tokens_out", "attempts",
]  # fmt: skip
TRACE_FIELDS = [
    "document", "step", "status", "attempts", "start", "duration_ms", "model", "prompt",
    "tokens_in", "tokens_out", "cost_usd", "error",
]  # fmt: skip


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubServer]:
    monkeypatch.setenv("EIGHTFLOW_BATCH_POLL_S", "0.05")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-batch-0123456789abcdef")
    with StubServer(StubConfig()) as server:
        yield server


def batch_config(stub: StubServer, **changes: Any) -> dict[str, Any]:
    return dict(http_json("POST", stub.url + "/_stub/batches/config", changes))


def batch_stats(stub: StubServer) -> dict[str, Any]:
    return dict(http_json("GET", stub.url + "/_stub/batches/stats"))


async def run_batch(folder: Path, out: Path, **options: Any) -> dict[str, Any]:
    params = BatchParams(folder=str(folder), out=str(out), concurrency=4, **options)
    state = await batch_documents(params, return_state=True)
    brief = await state.result(raise_on_failure=False)
    assert isinstance(brief, dict), f"flow crashed: {state.message}: {brief!r}"
    return brief


def rows(out: Path) -> list[dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def content(out: Path) -> dict[str, dict[str, str]]:
    return {r["id"]: {c: r[c] for c in CONTENT_COLUMNS} for r in rows(out)}


def trace(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]


async def test_waves_follow_the_dag_and_shapes_match_online(
    tmp_path: Path, home: Path, stub: StubServer
) -> None:
    folder = tmp_path / "docs"
    write_corpus(folder, 6)
    online = await run_batch(
        folder, tmp_path / "online", model=MODEL, api_base=stub.api_base, refresh=True
    )
    assert online["success"], online
    chat_before = stub.stats()["calls"]
    batch = await run_batch(
        folder, tmp_path / "batch", model=MODEL, api_base=stub.api_base, refresh=True,
        mode="batch-api",
    )  # fmt: skip
    assert batch["success"], batch
    waves = batch["batch_api"]["waves"]
    assert [w["steps"] for w in waves] == [
        ["entities", "sentiment", "summarization"],
        ["topic_extraction"],
    ]
    stats = batch_stats(stub)
    assert stats["batches_created"] == 2 and stats["lines_submitted"] == 6 * 4
    # every chat call the stub answered was a batch line: none went online
    assert stub.stats()["calls"] - chat_before == 6 * 4
    # same shapes: columns, row ids, trace fields; same content (the stub is deterministic)
    assert list(rows(tmp_path / "batch")[0]) == list(rows(tmp_path / "online")[0])
    assert content(tmp_path / "batch") == content(tmp_path / "online")
    assert [list(t) for t in trace(tmp_path / "batch")] == [
        list(t) for t in trace(tmp_path / "online")
    ]
