"""``batch-sharded`` on a real stack: a shard's worker is killed (kill -9) mid-run, and the
coordinator names the shard, ends at its deadline with the other shard merged, and gives the
command that re-runs the lost shard alone, which then completes on the surviving worker.

Marked e2e: a Prefect server (SQLite), three workers and a stub model; about two minutes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import StubConfig, start_stub_process
from tests.support.corpus import write_corpus
from tests.support.stack import Door, isolated_env, running_stack, wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3  # the coordinator takes one worker, each shard another
WORKER_LABEL = "prefect.worker.name"
DOCS = 40
STALL_S, DEADLINE_S = 8, 180  # from the shards' start: slots back ~75 s after the kill


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, require: Callable[[bool, str], None]
) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("sharded-e2e")
    write_corpus(work / "docs", DOCS)
    # Slow enough answers that each shard is still running when its worker is killed.
    with start_stub_process(StubConfig(latency_ms=400)) as stub:
        env = isolated_env(
            work,
            OPENAI_API_KEY="sk-e2e-sharded-" + "k" * 32,
            EIGHTFLOW_DATA_ROOTS=str(work),
            EIGHTFLOW_OUT_ROOT=str(work),
            EIGHTFLOW_ALLOWED_MODELS="openai/gpt-4o-mini",
            EIGHTFLOW_API_BASE=stub.api_base,
        )
        with running_stack(env, "--workers", str(WORKERS), check=require) as up:
            yield {"work": work, "home": up.home, "env": up.client_env(),
                   "admin": Door(up.api, up.admin_auth)}  # fmt: skip


def api(stack: dict[str, Any], method: str, path: str, **kw: Any) -> Any:
    response = stack["admin"](method, path, **kw)
    response.raise_for_status()
    return response.json() if response.content else None


def start_run(stack: dict[str, Any], name: str, params: dict[str, Any]) -> str:
    flow_name, deployment = name.split("/")
    found = api(stack, "GET", f"/deployments/name/{flow_name}/{deployment}")
    run = api(stack, "POST", f"/deployments/{found['id']}/create_flow_run",
              json={"parameters": params})  # fmt: skip
    return str(run["id"])


def shard_runs(stack: dict[str, Any], parent: str) -> list[dict[str, Any]]:
    runs = api(stack, "POST", "/flow_runs/filter",
               json={"flow_runs": {"name": {"like_": "shard-"}}})  # fmt: skip
    tasks = {t["id"] for t in api(stack, "POST", "/task_runs/filter",
             json={"task_runs": {"flow_run_id": {"any_": [parent]}}})}  # fmt: skip
    return [r for r in runs if r.get("parent_task_run_id") in tasks]


def progress(stack: dict[str, Any], run_id: str) -> float:
    wanted = {"flow_run_id": {"any_": [run_id]}, "key": {"any_": ["batch-documents-progress"]}}
    rows = api(stack, "POST", "/artifacts/filter", json={"artifacts": wanted})
    return max(
        (float(r["data"]) for r in rows if isinstance(r.get("data"), int | float)), default=0
    )


def kill_worker_of(stack: dict[str, Any], run: dict[str, Any]) -> None:
    """kill -9 the worker that runs ``run`` and the flow-run process it started, as when a
    worker's machine dies: nothing is left to report the run's end."""
    worker = (run.get("labels") or {}).get(WORKER_LABEL)
    state = json.loads((stack["home"] / "stack.json").read_text())
    pid = next(w["pid"] for w in state["workers"] if w["name"] == worker)
    infra = str(run.get("infrastructure_pid") or "").rsplit(":", 1)[-1]
    for victim in (pid, int(infra) if infra.isdigit() else None):
        if victim:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)


@pytest.mark.timeout(600)
def test_a_killed_shard_is_named_and_the_coordinator_ends_with_the_rerun_command(
    stack: dict[str, Any],
) -> None:
    out = stack["work"] / "sharded-out"
    params = {
        "folder": str(stack["work"] / "docs"), "out": str(out), "shards": 2, "concurrency": 2,
        "model": "openai/gpt-4o-mini", "refresh": True,
        "shard_stall_after_s": STALL_S, "shard_deadline_s": DEADLINE_S,
    }  # fmt: skip
    coordinator = start_run(stack, "batch-sharded/sharded", params)

    # Both shards running, each with a process of its own: kill the second one's worker
    # once that shard has documents done (mid-run).
    def both_running() -> list[dict[str, Any]] | None:
        live = [r for r in shard_runs(stack, coordinator)
                if r["state"]["type"] == "RUNNING" and r.get("infrastructure_pid")]  # fmt: skip
        return live if len(live) == 2 else None

    victim = next(r for r in wait_for("two running shards", both_running, 240)
                  if r["name"] == "shard-2-of-2")  # fmt: skip
    wait_for("shard 2's first documents", lambda: progress(stack, victim["id"]) > 0, 120)
    kill_worker_of(stack, victim)
    killed_at = time.monotonic()

    final = wait_for(
        "the coordinator's end (it must not wait for ever)",
        lambda: (r := api(stack, "GET", f"/flow_runs/{coordinator}"))["state"]["type"]
        in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") and r,
        DEADLINE_S + 120,
    )  # fmt: skip
    assert time.monotonic() - killed_at < DEADLINE_S + 120
    message = final["state"]["message"]
    assert final["state"]["type"] == "FAILED", final["state"]
    assert "1 of 2 shards not completed: shard-2-of-2 (Running" in message, message
    assert "Merged" in message and "shard-1-of-2" not in message.split("Merged")[0]

    # The coordinator's log named the late shard with its state, before the deadline.
    # Its last lines reach the server after its final state (the log handler drains last).
    def logged() -> list[str] | None:
        logs = api(stack, "POST", "/logs/filter",
                   json={"logs": {"flow_run_id": {"any_": [coordinator]}}})  # fmt: skip
        texts = [entry["message"] for entry in logs]
        rerun = any(
            t.startswith("re-run shard-2-of-2 alone: prefect deployment run") for t in texts
        )
        return texts if rerun else None

    texts = wait_for("the coordinator's re-run line in its logs", logged, 60)
    assert any(t.startswith("shard-2-of-2 is late: shard-2-of-2 (Running") for t in texts), texts
    # Shard 1's documents are merged; shard 2 was cancelled so it cannot finish behind our back.
    merged = (out / "results.csv").read_text().splitlines()
    assert 0 < len(merged) - 1 < DOCS
    lost = api(stack, "GET", f"/flow_runs/{victim['id']}")
    assert lost["state"]["type"] in ("CANCELLED", "CANCELLING"), lost["state"]

    # The exact command from the message re-runs the lost shard alone, on a live worker.
    command = message.split("Re-run each alone: ", 1)[1].split(" ; ")[0]
    words = shlex.split(command)
    prefect = str(Path(sys.executable).with_name("prefect"))
    done = subprocess.run(
        [prefect, *words[1:], "--watch", "--watch-timeout", "240"], env=stack["env"], cwd=ROOT,
        capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    parameters = json.loads(words[words.index("--params") + 1])
    shard_rows = (Path(parameters["out"]) / "results.csv").read_text().splitlines()
    assert len(merged) - 1 + len(shard_rows) - 1 == DOCS  # the two halves make the batch
