"""What one Prefect task run costs a batch, measured apart from any model call.

    python bench/prefect_task.py --tasks 1000 --json

A flow runs ``--tasks`` trivial async task runs (64 at a time, like a batch's documents in
flight) against a running local Prefect server, once per variant:

- ``plain``: the same coroutine awaited without Prefect (the floor);
- ``task``: ``@task`` with Prefect's defaults;
- ``eightflow``: the options eightflow's per-document task uses
  (:func:`eightflow.compiler.task_options.step_task_options`: no cache key, no result
  persistence, retries with a transient-only condition, a ``task_run_name`` template).

For each it reports the flow process's CPU per task run (user + system, in ms), the wall
time, and the Prefect server's CPU per task run while the variant ran (the server records
each task run's state changes from its events). The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IN_FLIGHT = 64


async def body(document: str) -> list[str]:
    await asyncio.sleep(0)
    return [document]


def variants() -> dict[str, Any]:
    from prefect import task

    from eightflow.compiler.task_events import send_fewer_events
    from eightflow.compiler.task_options import step_task_options
    from eightflow.definition import RetryPolicy
    from eightflow.settings import get_settings

    options = step_task_options(RetryPolicy.exponential(max_attempts=3), "document")
    return {
        "plain": body,
        "task": task(body, name="document"),
        "eightflow": send_fewer_events(
            task(body, **options, task_run_name="{document}"),
            running_after_s=get_settings().running_event_after_s,
        ),
    }


def run_variant(name: str, tasks: int) -> dict[str, float]:
    from prefect import flow

    call = variants()[name]

    @flow(name=f"task-cost-{name}")
    async def many() -> float:
        t0 = time.process_time()
        for start in range(0, tasks, IN_FLIGHT):
            ids = range(start, min(start + IN_FLIGHT, tasks))
            await asyncio.gather(*(call(document=f"doc-{i:05d}") for i in ids))
        return time.process_time() - t0

    t0 = time.perf_counter()
    cpu_s = asyncio.run(many())
    return {"cpu_s": cpu_s, "wall_s": time.perf_counter() - t0}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="Print only the JSON line.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_variant(args.child, args.tasks)))
        return

    import subprocess

    from bench.batch import free_port, process_cpu_s, settled_cpu_s
    from eightflow.server.auth import client_env
    from eightflow.server.local import LocalServer

    home = Path(tempfile.mkdtemp(prefix="eightflow-task-cost-")) / "home"
    server = LocalServer(home=home, port=free_port())
    server.start()
    env = {
        **os.environ,
        "EIGHTFLOW_HOME": str(home),
        "PREFECT_API_URL": server.api_url,
        **client_env(home),
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    report: dict[str, Any] = {"tasks": args.tasks}
    try:
        for name in ("plain", "task", "eightflow"):
            server_cpu0 = process_cpu_s(server.recorded_pid())
            done = subprocess.run(
                [sys.executable, __file__, "--child", name, "--tasks", str(args.tasks)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
            # The server's recorder and event persister flush after the client is gone:
            # count their work too, until the server is idle again.
            server_cpu = settled_cpu_s(server.recorded_pid()) - server_cpu0
            result = json.loads(done.stdout.strip().splitlines()[-1])
            report[name] = {
                "cpu_ms_per_task": round(result["cpu_s"] * 1000 / args.tasks, 3),
                "wall_s": round(result["wall_s"], 3),
                "server_cpu_ms_per_task": round(server_cpu * 1000 / args.tasks, 3),
            }
            if not args.json:
                print(name, report[name], file=sys.stderr)
    finally:
        server.stop()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
