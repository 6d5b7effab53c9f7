"""What a global limit costs per model call: client wall time and the server's CPU.

    python bench/global_limits.py --calls 500 --concurrency 8 --json

Starts a Prefect server (Prefect's test harness, SQLite, in a subprocess) and drives the
operations a model call makes when its bounds are shared through Prefect global
concurrency limits (``eightflow.runtime.global_limits.PrefectLimits``):

- ``inflight``: a leased slot on the batch's in-flight limit, released after the call
  (2 round trips);
- ``spend``: a reservation on the batch's spend limit and its settlement (2 round trips);
- ``tokens``: a rate-limit take on a model's tokens-per-minute limit (1 round trip);

each ``--calls`` times, ``--concurrency`` at once, with no model call in between. Prints
per-call client milliseconds (wall / calls x concurrency) and server CPU ms per call (the
server process's user + system time during the phase / calls). The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _server_cpu_s() -> float:
    """CPU seconds of this process's descendants (the test harness's server), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    mine, total, grew = {os.getpid()}, 0.0, True
    while grew:
        grew = False
        for pid, (ppid, cpu) in stats.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                total += cpu
                grew = True
    return total


async def _phase(name: str, calls: int, concurrency: int, one: Any) -> dict[str, Any]:
    sem = asyncio.Semaphore(concurrency)

    async def run(i: int) -> None:
        async with sem:
            await one(i)

    cpu0, t0 = _server_cpu_s(), time.perf_counter()
    await asyncio.gather(*(run(i) for i in range(calls)))
    wall, cpu = time.perf_counter() - t0, _server_cpu_s() - cpu0
    return {
        "phase": name,
        "calls": calls,
        "wall_s": round(wall, 3),
        "client_ms_per_call": round(wall / calls * concurrency * 1000, 2),
        "server_cpu_ms_per_call": round(cpu / calls * 1000, 2),
    }


async def measure(calls: int, concurrency: int) -> list[dict[str, Any]]:
    from eightflow.runtime.global_limits import PrefectLimits

    limits = PrefectLimits()
    await limits.ensure("bench-inflight", concurrency)
    await limits.ensure("bench-spend", 10**9)
    await limits.ensure("bench-tpm", 10**9, decay=10**7)

    async def inflight(_: int) -> None:
        await limits.release(await limits.lease(["bench-inflight"], 1, 60))

    async def spend(_: int) -> None:
        await limits.take(["bench-spend"], 120, wait=False)
        await limits.give(["bench-spend"], 20)

    async def tokens(_: int) -> None:
        await limits.take(["bench-tpm"], 500, mode="rate_limit")

    from prefect.client.orchestration import get_client

    results = []
    async with get_client():  # one client for the phases, as in a flow run
        for name, one in (("inflight", inflight), ("spend", spend), ("tokens", tokens)):
            await _phase(name, min(50, calls), concurrency, one)  # warm-up
            results.append(await _phase(name, calls, concurrency, one))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    for name in ("bench-inflight", "bench-spend", "bench-tpm"):
        await limits.delete(name)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        results = asyncio.run(measure(args.calls, args.concurrency))
    per_call = {
        "client_ms": round(sum(r["client_ms_per_call"] for r in results), 2),
        "server_cpu_ms": round(sum(r["server_cpu_ms_per_call"] for r in results), 2),
    }
    if not args.json:
        for r in results:
            print(
                f"{r['phase']:>9}: {r['client_ms_per_call']:6.2f} ms per call (client), "
                f"{r['server_cpu_ms_per_call']:6.2f} ms server CPU per call",
                file=sys.stderr,
            )
    print(json.dumps({"concurrency": args.concurrency, "phases": results, "all": per_call}))


if __name__ == "__main__":
    main()
