"""Gateway micro-bench: process CPU per model call, eightflow's gateway against plain litellm.

    python bench/gateway_call.py --calls 2000 --concurrency 32 --rounds 3 --json

Both sides make the same calls (document_analysis's four prompts in turn, structured
output, ``openai/gpt-4o-mini``) to the project's OpenAI-compatible stub (a separate process,
0 ms latency by default), at the same concurrency, in one process each, in alternation:
``script`` is ``bench/batch.py``'s hand-written ``litellm.acompletion`` call, and
``gateway`` is ``ModelGateway.complete`` inside a run (response cache, limiter, budget,
step trace: what a batch's document makes). Each side's figure is the process's CPU time
(user + system, every thread) over the timed calls, divided by the calls; the first
``--warmup`` calls of each child are untimed (litellm's lazy imports, connection set-up).

``--src DIR`` runs the gateway side from another checkout of the project (e.g. the base of a
branch) for an interleaved A/B of two versions: ``--src /tmp/base --src .``.

The last line printed is JSON: per side, the per-round CPU ms per call and their median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
ROOT = Path(__file__).resolve().parent.parent
MODEL = "openai/gpt-4o-mini"
PROMPTS = ("summarization", "topic_extraction", "sentiment", "entities")
TEXT = (
    "Acme Corp reported record revenue in Berlin on Monday. Its chief executive, Jane Doe, "
    "said the new product line sold well across Europe, while analysts warned of supply "
    "risks in the coming quarter. Document {i}."
)


def _timed(calls: int, warmup: int, concurrency: int, ask: object) -> dict[str, Any]:
    import asyncio

    async def run(n: int, offset: int) -> None:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with semaphore:
                await ask(PROMPTS[i % len(PROMPTS)], TEXT.format(i=offset + i))  # type: ignore[operator]

        await asyncio.gather(*(one(i) for i in range(n)))

    async def main() -> tuple[float, float]:
        await run(warmup, 10_000_000)
        cpu0, t0 = time.process_time(), time.perf_counter()
        await run(calls, 0)
        return time.process_time() - cpu0, time.perf_counter() - t0

    cpu, wall = asyncio.run(main())
    return {"cpu_ms_per_call": cpu * 1000 / calls, "wall_s": wall}


def child_script(api_base: str, calls: int, warmup: int, concurrency: int) -> dict[str, Any]:
    """``bench/batch.py``'s baseline call, as is."""
    import litellm

    from eightflow.prompts import PromptRegistry

    litellm.suppress_debug_info = True
    prompts = PromptRegistry(ROOT / "prompts")

    if str(ROOT) not in sys.path:  # run as a script: bench/ is on the path, not its parent
        sys.path.insert(0, str(ROOT))
    from bench.measuring import plain_call

    async def ask(prompt_id: str, text: str) -> object:
        return (await plain_call(prompts.get(prompt_id), text, MODEL, api_base))[0]

    return _timed(calls, warmup, concurrency, ask)


def child_gateway(api_base: str, calls: int, warmup: int, concurrency: int) -> dict[str, Any]:
    """``ModelGateway.complete`` in a run with a response cache, as a batch's document."""
    os.environ["EIGHTFLOW_API_BASE"] = api_base  # the bench is the operator
    os.environ.setdefault("EIGHTFLOW_HOME", tempfile.mkdtemp(prefix="gateway-bench-home-"))
    from eightflow.gateway import ModelGateway
    from eightflow.prompts import PromptRegistry
    from eightflow.runtime.limiter import CallLimiter
    from eightflow.runtime.records import StepRecord
    from eightflow.runtime.run_state import RunState, StepScope, current_run, current_step
    from eightflow.store.cache import ResponseCache

    home = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    gateway = ModelGateway(MODEL, prompts=PromptRegistry(ROOT / "prompts"))
    run = RunState(
        workflow="bench",
        version="1",
        limiter=CallLimiter(concurrency),
        cache=ResponseCache(home / "cache.sqlite"),
    )
    costs: list[float | None] = []

    async def ask(prompt_id: str, text: str) -> object:
        current_run.set(run)
        current_step.set(StepScope(record=StepRecord(name=prompt_id)))
        generation = await gateway.complete(prompt_id, text)
        costs.append(generation.cost_usd)
        return generation.output

    result = _timed(calls, warmup, concurrency, ask)
    if any(cost is None or cost <= 0 for cost in costs):
        raise SystemExit("the gateway lost a call's cost")
    result["cost_usd"] = sum(c or 0.0 for c in costs[warmup:])
    result["source"] = str(Path(sys.modules["eightflow"].__file__ or "").parent.parent)
    return result


def run_child(side: str, src: Path, api_base: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", side, "--api-base", api_base]
    cmd += ["--calls", str(args.calls), "--warmup", str(args.warmup)]
    cmd += ["--concurrency", str(args.concurrency)]
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run(cmd, env=env, cwd=src, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{side} ({src}) failed:\n{proc.stderr[-4000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--src", action="append", type=Path, help="checkouts for the gateway side")
    parser.add_argument("--no-script", action="store_true", help="skip the plain litellm side")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=("script", "gateway"))
    parser.add_argument("--api-base")
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, os.getcwd())
        child = child_script if args.child == "script" else child_gateway
        print(json.dumps(child(args.api_base, args.calls, args.warmup, args.concurrency)))
        return

    sys.path.insert(0, str(ROOT))
    from tests.support import StubConfig, start_stub_process

    sources = [s.resolve() for s in args.src or [ROOT]]
    sides = ([] if args.no_script else [("script", ROOT)]) + [("gateway", s) for s in sources]
    figures: dict[str, list[float]] = {}
    with start_stub_process(StubConfig(latency_ms=args.latency_ms)) as stub:
        for round_no in range(args.rounds):
            for side, src in sides:
                name = side if len(sources) == 1 or side == "script" else f"{side}:{src}"
                result = run_child(side, src, stub.api_base, args)
                if side == "gateway" and Path(result["source"]) != src:
                    raise SystemExit(f"the gateway side ran {result['source']}, not {src}")
                figures.setdefault(name, []).append(round(result["cpu_ms_per_call"], 3))
                if not args.json:
                    print(f"round {round_no + 1} {name}: {result['cpu_ms_per_call']:.3f} ms/call")
    summary = {
        name: {"cpu_ms_per_call": runs, "median": round(statistics.median(runs), 3)}
        for name, runs in figures.items()
    }
    summary["settings"] = {
        "calls": args.calls,
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "load_avg": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
