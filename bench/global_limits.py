"""What the global limits cost per model call: client wall time and the server's CPU.

    python bench/global_limits.py --calls 400 --concurrency 8 --call-ms 100 --json

Starts a Prefect server (Prefect's test harness, SQLite, in a subprocess) and runs
``--calls`` simulated model calls of ``--call-ms`` each, ``--concurrency`` at once, through
eightflow's call limiter and budget, in phases:

- ``local``: no shared limit (a batch of its own) -- the baseline;
- ``batch``: a shard of a sharded batch: the batch's in-flight slots
  (:class:`~eightflow.batch.shared_bounds.BatchSlots`, handed between calls) and its spend
  (:class:`~eightflow.batch.shared_bounds.BatchBudget`, drawn a chunk at a time);
- ``per-call``: the naive way, for comparison: a leased slot per call, released after it,
  and a reservation and settlement on the spend limit per call (4 round trips);
- ``model``: a model's operator limits (rpm, tpm, in flight: 4 round trips per call).

Prints, per phase, the wall time of the calls, the extra milliseconds per call over
``local``, the time the run's end takes to give back what it holds (``close_s``, once per
run), the server's CPU per call (its user + system time during the phase / calls) and the
round trips. The last line is JSON.
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


async def _phase(
    name: str, calls: int, concurrency: int, call_s: float, limiter: Any, budget: Any, store: Any
) -> dict[str, Any]:
    async def one(i: int) -> None:
        async with limiter.slot("bench/model", 300):
            held = await budget.areserve(100, 0.0001)
            await asyncio.sleep(call_s)
            await budget.asettle(held, 200, 0.00008)

    trips0, cpu0, t0 = store.round_trips, _server_cpu_s(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    wall = time.perf_counter() - t0
    await budget.aclose()  # the run's end: once per run, not per call
    for gate in limiter.gates:
        if hasattr(gate, "sweep"):
            await gate.sweep()
    close, cpu = time.perf_counter() - t0 - wall, _server_cpu_s() - cpu0
    return {
        "phase": name,
        "calls": calls,
        "wall_s": round(wall, 3),
        "close_s": round(close, 3),
        "server_cpu_ms_per_call": round(cpu / calls * 1000, 2),
        "round_trips_per_call": round((store.round_trips - trips0) / calls, 2),
    }


class PerCallSlots:
    """The naive gate: one leased slot per call (2 round trips)."""

    def __init__(self, name: str, store: Any) -> None:
        self.name, self.store = name, store

    async def enter(self, tokens: int) -> Any:
        return await self.store.lease([self.name], 1, 300)

    async def exit(self, held: Any, used: int | None) -> None:
        await self.store.release(held)


class PerCallBudget:
    """The naive budget: a reservation and a settlement on the server per call."""

    def __init__(self, name: str, store: Any) -> None:
        self.name, self.store = name, store

    async def areserve(self, tokens: int, cost: float) -> int:
        await self.store.take([self.name], int(cost * 1e6), wait=False)
        return int(cost * 1e6)

    async def asettle(self, held: int, tokens: int, cost: float) -> None:
        await self.store.give([self.name], max(1, held - int(cost * 1e6)))

    async def aclose(self) -> None:
        pass


async def measure(
    calls: int, concurrency: int, call_ms: float, naive_too: bool = True
) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client

    from eightflow.batch.shared_bounds import BatchBudget, BatchLimits, batch_wide
    from eightflow.runtime import model_limits
    from eightflow.runtime.budget import Budget
    from eightflow.runtime.global_limits import PrefectLimits, default_store
    from eightflow.runtime.limiter import CallLimiter

    store = default_store()
    assert isinstance(store, PrefectLimits)
    limits = BatchLimits("bench", concurrency, 1000.0)
    call_s = call_ms / 1000
    results = []
    async with get_client():  # one client for the phases, as in a flow run
        await limits.create(store)

        def batch() -> tuple[Any, Any]:
            return batch_wide(Budget(max_cost_usd=1000.0), CallLimiter(concurrency), "bench", store)

        def naive() -> tuple[Any, Any]:
            slots = PerCallSlots(limits.inflight, store)
            return PerCallBudget(limits.spend, store), CallLimiter(concurrency, gates=[slots])

        def local() -> tuple[Any, Any]:
            return Budget(max_cost_usd=1000.0), CallLimiter(concurrency)

        # The naive way is slow on SQLite: a quarter of the calls is enough to see it.
        phases = [("local", local, calls), ("batch", batch, calls), ("per-call", naive, calls // 4)]
        if not naive_too:
            phases.pop()
        for name, make, n in phases:
            budget, limiter = make()
            await _phase(name, min(40, n), concurrency, call_s, limiter, budget, store)
            budget, limiter = make()
            results.append(await _phase(name, n, concurrency, call_s, limiter, budget, store))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        os.environ["EIGHTFLOW_MODEL_LIMITS"] = json.dumps(
            {"bench/model": {"rpm": 10**6, "tpm": 10**9, "in_flight": concurrency}}
        )
        model_limits.reset_model_gates()
        budget, limiter = Budget(max_cost_usd=1000.0), CallLimiter(concurrency)
        n = calls // 4  # per call, like the naive phase: a quarter of the calls
        results.append(await _phase("model", n, concurrency, call_s, limiter, budget, store))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        await limits.delete(store)
        assert isinstance(batch()[0], BatchBudget)
    base = results[0]["wall_s"] / results[0]["calls"]
    for r in results:
        extra = r["wall_s"] / r["calls"] - base
        r["extra_ms_per_call"] = round(extra * concurrency * 1000, 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--call-ms", type=float, default=100.0)
    parser.add_argument(
        "--no-per-call", action="store_true", help="Skip the slow per-call phase (minutes)."
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        results = asyncio.run(
            measure(args.calls, args.concurrency, args.call_ms, not args.no_per_call)
        )
    if not args.json:
        for r in results:
            print(
                f"{r['phase']:>9}: {r['wall_s']:7.2f} s, {r['extra_ms_per_call']:6.2f} ms more per "
                f"call, {r['server_cpu_ms_per_call']:6.2f} ms server CPU per call, "
                f"{r['round_trips_per_call']} round trips per call",
                file=sys.stderr,
            )
    print(json.dumps({"concurrency": args.concurrency, "call_ms": args.call_ms, "phases": results}))


if __name__ == "__main__":
    main()
