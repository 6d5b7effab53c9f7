"""One batch over two worker processes: every document observed once, bounds batch-wide.

The batch-documents flow runs with ``workers=2`` against the stub server (a separate
process whose counters see every request from every worker).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents

from tests.support import StubConfig, StubProcess
from tests.support.corpus import write_corpus
from tests.support.operator_env import operator_env

pytestmark = [pytest.mark.e2e, pytest.mark.prefect]

MODEL = "openai/gpt-4o-mini"
LEAVES = {"summarization", "topic_extraction", "sentiment", "entities", "compilation"}


STUB_HISTORY_LIMIT = 1000  # for the stub_process fixture


async def run(
    stub: StubProcess,
    base: Path,
    docs: int,
    latency_ms: int,
    start: str = "fork",
    html: bool = False,
    **options: Any,
) -> dict[str, Any]:
    write_corpus(base / "docs", docs)
    if html:  # parsed in each process's loader sandbox (a process pool of its own)
        for path in sorted((base / "docs").glob("*.txt")):
            lines = path.read_text().splitlines()
            body = "".join(f"<p>{line}</p>" for line in lines[1:] if line)
            path.with_suffix(".html").write_text(
                f"<html><head><title>{lines[0]}</title></head><body>{body}</body></html>"
            )
            path.unlink()
    stub.configure(**StubConfig(latency_ms=latency_ms, completion_tokens=40).model_dump())
    stub.reset()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EIGHTFLOW_HOME", str(base / "home"))
        mp.setenv("EIGHTFLOW_WORKER_START", start)
        mp.setenv("OPENAI_API_KEY", "sk-test-workers-0123456789abcdef")
        params = BatchParams(
            folder=str(base / "docs"), out=str(base / "out"), model=MODEL, workers=2, **options,
        )  # fmt: skip
        with operator_env(stub.api_base, MODEL):  # the test is the operator
            state = await batch_documents(**params.flow_parameters(), return_state=True)
    brief = await state.result(raise_on_failure=False)
    out = base / "out"
    trace = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    rows = (out / "results.csv").read_text().splitlines()[1:]
    return {
        "state": state, "brief": brief, "trace": trace, "rows": rows, "home": base / "home",
        "stats": stub.stats(), "history": stub.history(limit=1000),
    }  # fmt: skip


@pytest.fixture(scope="module", params=["fork", "spawn"])
async def spread(
    stub_process: StubProcess, tmp_path_factory: pytest.TempPathFactory, request: Any
) -> Any:
    """24 documents, concurrency 4, slow answers: long enough for the second process.
    Both ways of starting workers: forked (the default on Linux) and spawned."""
    base = tmp_path_factory.mktemp(f"spread-{request.param}")
    return await run(stub_process, base, 24, 300, request.param, concurrency=4)


def test_both_processes_ran_documents(spread: dict[str, Any]) -> None:
    brief = spread["brief"]
    assert spread["state"].is_completed(), spread["state"].message
    assert brief["workers"] == 2 and brief["completed"] == 24
    assert sum(brief["documents_per_worker"]) == 24
    assert all(n > 0 for n in brief["documents_per_worker"]), brief["documents_per_worker"]


def test_calls_in_flight_never_pass_the_batch_concurrency(spread: dict[str, Any]) -> None:
    assert spread["stats"]["calls"] == 24 * 4
    assert 0 < spread["stats"]["max_in_flight"] <= 4


def test_every_step_lands_in_the_trace_and_the_ledger(spread: dict[str, Any]) -> None:
    by_doc: dict[str, set[str]] = {}
    for row in spread["trace"]:
        by_doc.setdefault(row["document"], set()).add(row["step"])
    assert len(by_doc) == 24 and all(steps == LEAVES for steps in by_doc.values())
    assert len(spread["rows"]) == 24
    flow_run_id = str(spread["state"].state_details.flow_run_id)
    with sqlite3.connect(spread["home"] / "ledger.sqlite") as db:
        query = "SELECT COUNT(*) FROM runs WHERE batch_id = ?"
        (runs,) = db.execute(query, (flow_run_id,)).fetchone()
    assert runs == 24


async def test_every_document_is_a_task_run_of_the_flow_run(spread: dict[str, Any]) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter

    flow_run_id = spread["state"].state_details.flow_run_id
    async with get_client() as client:
        for _ in range(60):  # task-run states arrive through events
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                task_run_filter=TaskRunFilter(),
                limit=200,
            )
            done = [r for r in runs if r.state is not None and r.state.is_completed()]
            if len(done) >= 24:
                break
            await asyncio.sleep(1)
    assert len(done) >= 24


@pytest.fixture(scope="module")
async def capped(stub_process: StubProcess, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """20 documents against a cap that pays for about twelve calls, over two processes."""
    import litellm

    call = sum(litellm.cost_per_token(model=MODEL, prompt_tokens=330, completion_tokens=40))
    result = await run(
        stub_process, tmp_path_factory.mktemp("capped"), 20, 50, concurrency=4,
        max_cost_usd=12 * call,
    )  # fmt: skip
    result["cap"] = 12 * call
    return result


def test_budget_overshoot_across_processes_is_bounded_by_calls_in_flight(
    capped: dict[str, Any],
) -> None:
    brief, trace = capped["brief"], capped["trace"]
    assert brief["budget_exhausted"] is True and brief["workers"] == 2
    assert len(capped["rows"]) == 20
    spend = sum(t["cost_usd"] or 0.0 for t in trace)
    max_call = max(t["cost_usd"] or 0.0 for t in trace)
    assert spend <= capped["cap"] + 4 * max_call  # at most concurrency calls past the cap
    assert capped["stats"]["calls"] < 20 * 4


async def test_rpm_holds_across_processes(
    stub_process: StubProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """120 starts a minute batch-wide: in every stretch of the run, no more than that rate
    (plus one unpaced first start per process)."""
    rpm = 120.0
    result = await run(stub_process, tmp_path_factory.mktemp("rpm"), 3, 10, concurrency=4, rpm=rpm)
    times = sorted(h["time"] for h in result["history"] if h.get("outcome") == "ok")
    assert len(times) == 12
    for i in range(len(times)):
        for j in range(i + 1, len(times)):
            starts = j - i + 1
            assert starts <= (times[j] - times[i]) * rpm / 60 + 2 + 0.5, (i, j, times)


async def test_workers_parse_markup_in_their_own_loader_sandbox(
    stub_process: StubProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """HTML goes through the loader sandbox, a process pool each worker starts for itself:
    a daemonic worker could not (its documents all failed to load)."""
    base = tmp_path_factory.mktemp("html")
    result = await run(stub_process, base, 16, 200, html=True, concurrency=4)
    statuses = [row.split(",")[1] for row in result["rows"]]
    assert statuses == ["completed"] * 16, result["rows"]
    assert all(n > 0 for n in result["brief"]["documents_per_worker"])
