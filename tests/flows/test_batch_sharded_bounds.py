"""A sharded batch's bounds are the batch's: two shards on three workers, one stub that
counts the requests open at once and the tokens it served.

Marked e2e: it starts the stack (a Prefect server on SQLite, three workers) and runs
``batch-sharded`` twice through its deployment, as the UI's Run button does.

- ``concurrency`` 4: never more than 4 requests open at the stub, though each shard's own
  limiter would allow 4 (8 for the two);
- ``max_cost_usd``: the stub's tokens, priced, stay within the cap plus one document.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import StubConfig, start_stub_process
from tests.support.corpus import write_corpus
from tests.support.process import StubProcess
from tests.support.stack import Door, isolated_env, running_stack

pytestmark = pytest.mark.e2e
MODEL = "openai/gpt-4o-mini"
# Small answers: the workflow's own cap (document_analysis: $0.05 a run) stays out of the way.
PROMPT_TOKENS, COMPLETION_TOKENS = 100, 100
CALLS_PER_DOCUMENT = 4  # document_analysis: summary, topics, sentiment, entities
DOCUMENTS = 24


def call_cost() -> float:
    import litellm

    cost_in, cost_out = litellm.cost_per_token(
        model=MODEL, prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS
    )
    return float(cost_in + cost_out)


@pytest.fixture(scope="module")
def stub() -> Iterator[StubProcess]:
    config = StubConfig(
        latency_ms=400, prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS
    )
    with start_stub_process(config) as server:
        yield server


@pytest.fixture(scope="module")
def sharded_stack(
    tmp_path_factory: pytest.TempPathFactory, stub: StubProcess
) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("sharded-bounds")
    write_corpus(work / "docs", DOCUMENTS)
    env = isolated_env(
        work,
        OPENAI_API_KEY="sk-e2e-bounds-" + "b" * 32,
        EIGHTFLOW_API_BASE=stub.api_base,
        EIGHTFLOW_ALLOWED_MODELS=MODEL,
        EIGHTFLOW_DATA_ROOTS=str(work),
        EIGHTFLOW_OUT_ROOT=str(work),
        EIGHTFLOW_MODEL_LIMITS=json.dumps({MODEL: {"rpm": 100000, "in_flight": 64}}),
    )
    with contextlib.ExitStack() as cleanup:
        database: list[str] = []
        if os.environ.get("EIGHTFLOW_E2E_POSTGRES") == "1" and shutil.which("pg_ctlcluster"):
            # PostgreSQL on request (CI): the cluster is shared with other e2e tests, which
            # stop it when they end, so SQLite is the default here.
            from eightflow_app.deployments.postgres import drop_database, ensure_postgres

            from tests.support.postgres import postgres_for_test

            cleanup.enter_context(postgres_for_test())
            name = f"eightflow_bounds_{os.getpid()}"
            database = ["--postgres", ensure_postgres(database=name, fresh=True)]
            cleanup.callback(drop_database, name)
        with running_stack(env, "--workers", "3", *database) as up:
            yield {"admin": Door(up.api, up.admin_auth), "work": work, "up": up.up.stdout}


def _api(stack: dict[str, Any], method: str, path: str, **kw: Any) -> Any:
    """``api``, asked again while a busy SQLite server answers 5xx."""
    for _ in range(30):
        answer = stack["admin"](method, path, **kw)
        if answer.status_code < 500:
            answer.raise_for_status()
            return answer.json() if answer.content else None
        time.sleep(2)
    answer.raise_for_status()


def _limit_names(stack: dict[str, Any]) -> set[str]:
    rows = _api(stack, "POST", "/v2/concurrency_limits/filter", json={"limit": 200})
    return {row["name"] for row in rows}


def _why(stack: dict[str, Any], run: dict[str, Any]) -> str:
    """The run's and its shards' states, and their error logs: what a failure says."""
    runs = _api(stack, "POST", "/flow_runs/filter", json={"sort": "START_TIME_DESC", "limit": 3})
    ids = [run["id"], *(r["id"] for r in runs)]
    logs = _api(
        stack,
        "POST",
        "/logs/filter",
        json={"logs": {"flow_run_id": {"any_": ids}, "level": {"ge_": 30}}, "limit": 30},
    )
    states = [f"{r['name']}: {r['state']['type']} {r['state'].get('message')}" for r in runs]
    return "\n".join([str(run["state"].get("message")), *states, *(x["message"] for x in logs)])


def _run(stack: dict[str, Any], name: str, **params: Any) -> dict[str, Any]:
    """What the UI's Run button does, then wait (a busy SQLite server may answer 5xx)."""
    work = stack["work"]
    base = {"folder": str(work / "docs"), "out": str(work / name), "shards": 2}
    found = _api(stack, "GET", "/deployments/name/batch-sharded/sharded")
    run = _api(
        stack,
        "POST",
        f"/deployments/{found['id']}/create_flow_run",
        json={"parameters": {**base, "model": MODEL, "refresh": True, **params}},
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(2)
        answer = stack["admin"]("GET", f"/flow_runs/{run['id']}")
        if answer.status_code >= 500:
            continue
        answer.raise_for_status()
        current = answer.json()
        if current["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return dict(current)
    raise AssertionError(f"{name} did not finish in 600 s")


@pytest.mark.timeout(1200)
def test_two_shards_on_three_workers_share_concurrency_and_the_cap(
    sharded_stack: dict[str, Any], stub: StubProcess
) -> None:
    # stack up made the operator's model limits: the UI's Concurrency page lists them
    names = _limit_names(sharded_stack)
    assert "eightflow-model-openai-gpt-4o-mini-inflight" in names, sharded_stack["up"]

    stub.reset()
    run = _run(sharded_stack, "bounded", concurrency=4)
    assert run["state"]["type"] == "COMPLETED", _why(sharded_stack, run)
    stats = stub.stats()
    assert stats["by_outcome"]["ok"] == DOCUMENTS * CALLS_PER_DOCUMENT
    # Each shard alone would open 4: the batch's limit holds the two to 4 together.
    assert 2 <= stats["max_in_flight"] <= 4, stats
    assert not {n for n in _limit_names(sharded_stack) if n.startswith("eightflow-batch-")}

    stub.reset()
    document = call_cost() * CALLS_PER_DOCUMENT
    cap = document * 5.5  # a third of the folder's cost
    _run(sharded_stack, "capped", concurrency=4, max_cost_usd=cap)
    usage = stub.stats()["usage"]
    import litellm

    cost_in, cost_out = litellm.cost_per_token(
        model=MODEL,
        prompt_tokens=usage["prompt_tokens"],
        completion_tokens=usage["completion_tokens"],
    )
    spent = float(cost_in + cost_out)
    print(f"cap ${cap:.6f}, spent ${spent:.6f}, one document ${document:.6f}", file=sys.stderr)
    assert document * 3 <= spent <= cap + document, (spent, cap, document)
    rows = (sharded_stack["work"] / "capped" / "results.csv").read_text().splitlines()
    assert sum(",unprocessed," in row for row in rows) >= DOCUMENTS // 3
