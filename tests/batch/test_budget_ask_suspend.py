"""``on_budget=ask`` in a deployment's run: the run is *suspended* (its process ends), a
person answers through Prefect's API, and Prefect runs the flow again in a new process.

The new process must repeat no finished document (they come from the outcome cache), carry
the spend from before the question, and apply the answer before any document starts. The
flow is served (``flow.serve``) in a child process against the session's Prefect server;
both models are answered by the HTTP stub, which counts the calls each received.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents

from tests.support import StubConfig, StubServer
from tests.support.corpus import write_corpus
from tests.support.operator_env import operator_env

pytestmark = [pytest.mark.e2e, pytest.mark.prefect]

PRICEY, CHEAP = "openai/gpt-4o", "openai/gpt-4o-mini"
DEPLOYMENT = "batch-documents/on-budget-ask"
DOCS, CALLS_PER_DOC = 6, 4
SERVE = (
    "from eightflow_app.flows.batch_documents import batch_documents\n"
    "batch_documents.serve(name='on-budget-ask', print_starting_message=False)\n"
)


async def state_of(run_id: Any, done: Any, timeout: float) -> Any:
    from prefect.client.orchestration import get_client

    deadline = asyncio.get_running_loop().time() + timeout
    async with get_client() as client:
        while asyncio.get_running_loop().time() < deadline:
            run = await client.read_flow_run(run_id)
            if run.state is not None and done(run.state):
                return run
            await asyncio.sleep(0.5)
    raise AssertionError(f"flow run {run_id} never reached the awaited state")


async def deployment_ready(timeout: float = 90) -> None:
    from prefect.client.orchestration import get_client

    deadline = asyncio.get_running_loop().time() + timeout
    async with get_client() as client:
        while asyncio.get_running_loop().time() < deadline:
            try:
                await client.read_deployment_by_name(DEPLOYMENT)
                return
            except Exception:
                await asyncio.sleep(0.5)
    raise AssertionError("the served deployment never appeared")


def calls_by_model(stub: StubServer) -> dict[str, int]:
    return dict(stub.stats().get("by_model", {}))


async def test_a_suspended_batch_resumes_in_a_new_process_with_the_answer(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run
    from prefect.input.run_input import keyset_from_paused_state
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-suspend-0123456789abcdef")
    write_corpus(tmp_path / "one", 1, seed=11)  # not one of the batch's documents
    write_corpus(tmp_path / "docs", DOCS, seed=5)
    with StubServer(StubConfig()) as stub:
        one = BatchParams(folder=str(tmp_path / "one"), out=str(tmp_path / "o1"), model=PRICEY)
        with operator_env(stub.api_base, PRICEY):  # what one document costs on PRICEY
            state = await batch_documents(**one.flow_parameters(), return_state=True)
        doc_cost = float((await state.result())["cost_usd"])
        before = calls_by_model(stub)
        env = {
            **os.environ,
            "EIGHTFLOW_HOME": str(home),
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "EIGHTFLOW_API_BASE": stub.api_base,
            "EIGHTFLOW_ALLOWED_MODELS": PRICEY,
            "EIGHTFLOW_CHEAPER_MODELS": CHEAP,
        }
        with (tmp_path / "serve.log").open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-c", SERVE], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            await deployment_ready()
            params = BatchParams(
                folder=str(tmp_path / "docs"), out=str(tmp_path / "out"), model=PRICEY,
                concurrency=1, max_cost_usd=4 * doc_cost, on_budget="ask", budget_switch_at=0.5,
            )  # fmt: skip
            run = await run_deployment(DEPLOYMENT, parameters=params.flow_parameters(), timeout=0)  # type: ignore[misc]
            run = await state_of(run.id, lambda s: s.is_paused() or s.is_final(), 180)
            assert run.state.name == "Suspended", run.state  # no process waits for the answer
            from prefect.client.orchestration import get_client

            keys = keyset_from_paused_state(run.state)
            async with get_client() as client:
                text = json.loads(await client.read_flow_run_input(run.id, keys["description"]))
            assert "spent so far" in text and "projected total" in text
            await resume_flow_run(run.id, run_input={"choice": "cheaper"})  # type: ignore[misc]
            run = await state_of(run.id, lambda s: s.is_final(), 240)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
        log_text = (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
        assert run.state.is_completed(), f"{run.state}\n{log_text}"
        after = calls_by_model(stub)
    with (tmp_path / "out" / "results.csv").open(newline="", encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda row: row["id"])
    models = [row["model"] for row in rows]
    assert [row["status"] for row in rows] == ["completed"] * DOCS
    assert PRICEY in models and models[-1] == CHEAP
    assert models == sorted(models, key=lambda m: m != PRICEY)
    # The documents finished before the question were not sent again after the resume.
    sent = {m: after.get(m, 0) - before.get(m, 0) for m in ("gpt-4o", "gpt-4o-mini")}
    assert sent == {
        "gpt-4o": CALLS_PER_DOC * models.count(PRICEY),
        "gpt-4o-mini": CALLS_PER_DOC * models.count(CHEAP),
    }
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Budget" in report and "answered before the resume" in report
