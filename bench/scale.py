"""Scale-out benchmark: one worker against two workers with the batch split in shards.

    python bench/scale.py --docs 600 --latency-ms 200 --concurrency 16 --json

Starts the stack (`deployments/stack.py`: Prefect server, process work pool, deployments,
two workers that take one flow run each) on a free port, PostgreSQL when it can be started
here (root + PostgreSQL 15), SQLite otherwise, and a stub model in its own process. Then:

  (a) one flow run of ``batch-documents/nightly`` over the folder: it lands on one worker;
  (b) one run of ``batch-sharded/sharded`` with two shards: each shard is a flow run of the
      batch deployment, and the two land on the two workers.

Both use ``refresh`` so neither is served from cache. Wall times are from the server's run
records (creation to end). The last line printed is JSON with docs, wall_one_worker_s,
wall_two_workers_s, throughput_ratio, cpu_bound (load seen during the runs), the
database used, and late_shards / unfinished_shards: the shards the coordinator named late
and those still unfinished at its deadline (``--shard-deadline-s``; it never waits for ever).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def api_headers(api: str) -> dict[str, str]:
    """The stack's auth string and a CSRF token: the API asks who you are."""
    from eightflow.server.auth import auth_headers

    basic = auth_headers()
    token = httpx.get(f"{api}/csrf-token?client=bench", headers=basic, timeout=30).json()
    return {**basic, "Prefect-Csrf-Token": token["token"], "Prefect-Csrf-Client": "bench"}


def wait_run(
    api: str, deployment: str, params: dict[str, Any], timeout: float = 1800
) -> dict[str, Any]:
    flow, name = deployment.split("/")
    headers = api_headers(api)
    dep = httpx.get(f"{api}/deployments/name/{flow}/{name}", timeout=30, headers=headers).json()
    run = httpx.post(
        f"{api}/deployments/{dep['id']}/create_flow_run",
        json={"parameters": params},
        timeout=30,
        headers=headers,
    ).json()
    created = time.monotonic()
    loads = []
    while time.monotonic() - created < timeout:
        current = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=30, headers=headers).json()
        loads.append(os.getloadavg()[0])
        if current["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return {
                "state": current["state"]["type"],
                "wall_s": time.monotonic() - created,
                "load": max(loads),
            }
        time.sleep(0.5)
    raise SystemExit(f"{deployment} did not finish in {timeout} s")


def run_sharded_here(api: str, params: dict[str, Any]) -> dict[str, Any]:
    """The coordinator runs in this process, so both workers are free for the shards (a
    coordinator deployed to the same pool would hold one of the two worker slots). It ends
    by its shard deadline at the latest, with the shards that were late or unfinished."""
    import asyncio

    os.environ["PREFECT_API_URL"] = api
    from eightflow_app.flows.batch_sharded import ShardedParams, batch_sharded

    from eightflow.safety.form_types import to_form

    form = to_form(ShardedParams, ShardedParams(**params).model_dump())  # no None: form types

    async def run() -> tuple[Any, Any]:
        state = await batch_sharded(**form, return_state=True)
        return state, await state.aresult(raise_on_failure=False)

    t0 = time.monotonic()
    state, brief = asyncio.run(run())
    brief = brief if isinstance(brief, dict) else {}
    return {
        "state": state.type.value,
        "wall_s": time.monotonic() - t0,
        "load": os.getloadavg()[0],
        "late_shards": brief.get("late_shards", []),
        "unfinished_shards": brief.get("failed_shards", []),
        "message": state.message,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sqlite", action="store_true", help="Do not try PostgreSQL.")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--shard-stall-s", type=float, default=120.0, help="Name a shard late after this."
    )
    parser.add_argument(
        "--shard-deadline-s",
        type=float,
        default=1200.0,
        help="The two-shard phase ends by then, with the unfinished shards listed.",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="eightflow-scale-"))
    os.environ["EIGHTFLOW_HOME"] = str(work / "home")
    os.environ.pop("PREFECT_API_URL", None)
    from eightflow_app.deployments import stack

    from bench.batch import free_port
    from tests.support import StubConfig, start_stub_process
    from tests.support.corpus import write_corpus

    def say(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    folder = work / "docs"
    write_corpus(folder, args.docs)
    database = None
    if not args.sqlite and os.geteuid() == 0:
        try:
            from eightflow_app.deployments.postgres import ensure_postgres

            database = ensure_postgres(database="eightflow_scale", fresh=True)
        except RuntimeError as exc:
            say(f"PostgreSQL unavailable ({exc}); using SQLite")
    os.environ["OPENAI_API_KEY"] = "sk-bench-not-a-real-key-0000000000"
    # The benchmark is the operator: its folders are the roots, its stub the configured
    # base URL, its model the allowed one; and it leaves the user's Prefect profile alone.
    os.environ["EIGHTFLOW_DATA_ROOTS"] = os.environ["EIGHTFLOW_OUT_ROOT"] = str(work)
    os.environ["EIGHTFLOW_ALLOWED_MODELS"] = "openai/gpt-4o-mini"
    os.environ["EIGHTFLOW_CONFIGURE_PROFILE"] = "0"
    with start_stub_process(StubConfig(latency_ms=args.latency_ms)) as stub:
        os.environ["EIGHTFLOW_API_BASE"] = stub.api_base
        say("starting the stack with two workers")
        state = stack.up(port=free_port(), workers=2, postgres=database, log=say)
        api = state["api_url"]
        common = {
            "folder": str(folder),
            "model": "openai/gpt-4o-mini",
            "concurrency": args.concurrency,
            "refresh": True,
        }
        try:
            time.sleep(3)  # workers polling
            say("(a) one flow run on one worker")
            one = wait_run(api, "batch-documents/nightly", {**common, "out": str(work / "one")})
            calls_one = stub.stats()["calls"]
            stub.reset()
            say(f"    {one['wall_s']:.1f} s; (b) two shards on two workers")
            # A sharded batch's concurrency is the whole batch's (shared through Prefect):
            # two workers at the same load per worker need twice the batch's concurrency.
            two = run_sharded_here(
                api,
                {
                    **common,
                    "concurrency": args.concurrency * 2,
                    "out": str(work / "two"),
                    "shards": 2,
                    "shard_stall_after_s": args.shard_stall_s,
                    "shard_deadline_s": args.shard_deadline_s,
                },
            )
            if two["unfinished_shards"]:
                say(f"    {two['message']}")
            calls_two = stub.stats()["calls"]
            shards = httpx.post(
                f"{api}/flow_runs/filter",
                timeout=30,
                headers=api_headers(api),
                json={"flow_runs": {"name": {"like_": "shard-"}}},
            ).json()
            timeline = sorted(
                (r["name"], r["start_time"], r["end_time"], r.get("infrastructure_pid"))
                for r in shards
            )
            say("    shards: " + json.dumps(timeline))
        finally:
            stack.down(log=say)
    ratio = one["wall_s"] / two["wall_s"]
    report = {
        "docs": args.docs,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "database": "postgresql" if database else "sqlite",
        "wall_one_worker_s": round(one["wall_s"], 2),
        "wall_two_workers_s": round(two["wall_s"], 2),
        "throughput_ratio": round(ratio, 3),
        "calls_one": calls_one,
        "calls_two": calls_two,
        "states": [one["state"], two["state"]],
        # Shards named late by the coordinator, and those it gave up on at its deadline.
        "late_shards": two["late_shards"],
        "unfinished_shards": two["unfinished_shards"],
        "shards": timeline,
        "peak_load_one": round(one["load"], 2),
        "peak_load_two": round(two["load"], 2),
        "cpus": os.cpu_count(),
        "cpu_bound": two["load"] >= (os.cpu_count() or 1) * 0.9,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
