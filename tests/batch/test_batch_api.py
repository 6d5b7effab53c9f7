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
from eightflow_app.flows.batch_documents import BatchParams, batch_documents

from tests.support import StubConfig, StubServer
from tests.support.corpus import write_corpus
from tests.support.operator_env import operator_env
from tests.support.stub_server import http_json

pytestmark = pytest.mark.prefect

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
    api_base = options.pop("api_base", None)
    params = BatchParams(folder=str(folder), out=str(out), concurrency=4, **options)
    with operator_env(api_base, params.model):  # the test is the operator
        state = await batch_documents(**params.flow_parameters(), return_state=True)
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


@pytest.mark.parametrize("failure", ["error", "expired"])
async def test_failed_lines_are_retried_online(
    tmp_path: Path, home: Path, stub: StubServer, failure: str
) -> None:
    folder = tmp_path / "docs"
    write_corpus(folder, 3)
    batch_config(stub, fail_first_n_lines=2, line_failure=failure)
    brief = await run_batch(
        folder, tmp_path / "out", model=MODEL, api_base=stub.api_base, mode="batch-api"
    )
    assert brief["success"], brief
    assert brief["batch_api"]["online_retries"] == 2
    stats = batch_stats(stub)
    assert stats["lines_submitted"] == 3 * 4
    # the two failed lines never reached the chat endpoint in the batch; they did online
    assert stub.stats()["calls"] == 3 * 4
    notes = [n for t in trace(tmp_path / "out") for n in t["notes"].get("batch_api", [])]
    online = [n for n in notes if n.get("online")]
    assert len(online) == 2 and all(n["line_error"] for n in online)
    assert len(notes) == 3 * 4


async def test_cost_is_the_batch_rate_and_report_shows_online(
    tmp_path: Path, home: Path, stub: StubServer
) -> None:
    import litellm

    from eightflow.store.ledger import default_ledger

    folder = tmp_path / "docs"
    write_corpus(folder, 3)
    brief = await run_batch(
        folder, tmp_path / "out", model=MODEL, api_base=stub.api_base, mode="batch-api"
    )
    lines = default_ledger().query("SELECT * FROM provider_batch_lines")
    assert len(lines) == 3 * 4
    price = litellm.model_cost["gpt-4o-mini"]
    for line in lines:
        expected = (
            line["tokens_in"] * price["input_cost_per_token_batches"]
            + line["tokens_out"] * price["output_cost_per_token_batches"]
        )
        assert line["cost_usd"] == pytest.approx(expected)
        assert line["online_cost_usd"] == pytest.approx(2 * expected)
    total = sum(line["cost_usd"] for line in lines)
    assert brief["cost_usd"] == pytest.approx(total)
    assert brief["batch_api"]["cost_usd"] == pytest.approx(total)
    assert brief["batch_api"]["online_cost_usd"] == pytest.approx(2 * total)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Batch API" in report and "the same calls online" in report
    assert sum(float(r["cost_usd"]) for r in rows(tmp_path / "out")) == pytest.approx(total)


async def test_the_cap_is_reserved_at_the_batch_rate_before_a_wave(
    tmp_path: Path, home: Path, stub: StubServer
) -> None:
    folder = tmp_path / "docs"
    write_corpus(folder, 3)
    brief = await run_batch(
        folder, tmp_path / "out", model=MODEL, api_base=stub.api_base, mode="batch-api",
        max_cost_usd=1e-9,
    )  # fmt: skip
    assert brief["budget_exhausted"]
    assert batch_stats(stub)["batches_created"] == 0  # refused before submitting
    assert stub.stats()["calls"] == 0


@pytest.mark.parametrize(
    ("model", "named"),
    [
        ("anthropic/claude-haiku-4-5", "anthropic/claude-haiku-4-5"),
        ("gemini/gemini-1.5-flash", "gemini"),
        ("fake/model", "fake"),
    ],
)
def test_a_provider_without_batch_api_is_refused_by_name(model: str, named: str) -> None:
    from eightflow.batch.batch_api import refusal

    reason = refusal(model)
    assert reason is not None and named in reason and "--mode online" in reason


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "azure/my-deployment", "local/embedded"])
def test_batch_capable_models_are_accepted(model: str) -> None:
    from eightflow.batch.batch_api import refusal

    assert refusal(model) is None


@pytest.mark.parametrize("granularity", ["document", "step"])
async def test_embedded_model_runs_batch_api_in_process(
    tmp_path: Path, home: Path, granularity: str
) -> None:
    folder = tmp_path / "docs"
    write_corpus(folder, 3)
    online = await run_batch(folder, tmp_path / "online", model="local/embedded", refresh=True)
    batch = await run_batch(
        folder, tmp_path / "batch", model="local/embedded", mode="batch-api", refresh=True,
        granularity=granularity,
    )  # fmt: skip
    assert online["success"] and batch["success"], batch
    assert len(batch["batch_api"]["waves"]) == 2
    assert content(tmp_path / "batch") == content(tmp_path / "online")


async def test_a_run_that_stops_waiting_leaves_the_batch_for_the_next_run(
    tmp_path: Path, home: Path, stub: StubServer
) -> None:
    from eightflow.store.ledger import default_ledger
    from eightflow.store.provider_batches import list_batches

    folder = tmp_path / "docs"
    write_corpus(folder, 2)
    batch_config(stub, completion_delay_s=3600)
    first = await run_batch(
        folder, tmp_path / "out1", model=MODEL, api_base=stub.api_base, mode="batch-api",
        batch_max_wait_s=0.5,
    )  # fmt: skip
    assert not first["success"]
    assert first["batch_api"]["waiting_batches"] and first["next_poll_flow_run"] is None
    assert all(r["status"] == "failed" for r in rows(tmp_path / "out1"))
    waiting = first["batch_api"]["waiting_batches"][0]
    errors = [t["error"] for t in trace(tmp_path / "out1") if t["step"] == "summarization"]
    assert errors and all(f"provider batch {waiting} still running" in e for e in errors)
    [open_batch] = list_batches(default_ledger())
    assert open_batch["batch_id"] == first["batch_api"]["waiting_batches"][0]

    batch_config(stub, completion_delay_s=0)
    second = await run_batch(
        folder, tmp_path / "out2", model=MODEL, api_base=stub.api_base, mode="batch-api"
    )
    assert second["success"], second
    stats = batch_stats(stub)
    assert stats["batches_created"] == 2 and stats["lines_submitted"] == 2 * 4
    assert list_batches(default_ledger()) == []


async def test_answered_batches_serve_again_unless_refresh(
    tmp_path: Path, home: Path, stub: StubServer
) -> None:
    folder = tmp_path / "docs"
    write_corpus(folder, 2)
    options = {"model": MODEL, "api_base": stub.api_base, "mode": "batch-api"}
    assert (await run_batch(folder, tmp_path / "out1", refresh=True, **options))["success"]
    assert batch_stats(stub)["batches_created"] == 2
    # the answers are cached; with the cache emptied, the ledger's batches still serve them
    (home / "cache.sqlite").unlink()
    again = await run_batch(folder, tmp_path / "out2", **options)
    assert again["success"] and again["cache_hits"] == 0
    assert batch_stats(stub)["batches_created"] == 2 and stub.stats()["calls"] == 2 * 4
    assert content(tmp_path / "out2") == content(tmp_path / "out1")
    # --refresh recomputes: new batches
    assert (await run_batch(folder, tmp_path / "out3", refresh=True, **options))["success"]
    assert batch_stats(stub)["batches_created"] == 4
