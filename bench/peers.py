"""The same per-document DAG in plain asyncio and in LangGraph, against the same stub.

    pip install langgraph        # optional: a bench extra, never a runtime dependency
    python bench/peers.py --docs 300 --latency-ms 100 --concurrency 32 --json

Both sides send the same prompts through litellm to the project's OpenAI-compatible stub
(a separate process, fixed latency): summarize -> topics, with sentiment and entities in
parallel, then compile (no model call). Each side runs in its own child process; its JSON
has the in-process wall, the whole-process wall and CPU per model call. eightflow's side of
the comparison is ``bench/batch.py`` (it needs a Prefect server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from bench.batch import MODEL, ROOT, cpu_seconds, per_call, phase_baseline
from bench.measuring import plain_call


def phase_langgraph(folder: Path, api_base: str, concurrency: int) -> dict[str, Any]:
    """One compiled LangGraph StateGraph, invoked once per document."""
    from typing import TypedDict

    import litellm
    from langgraph.graph import END, START, StateGraph

    from eightflow.prompts import PromptRegistry

    litellm.suppress_debug_info = True
    prompts = PromptRegistry(ROOT / "prompts")
    semaphore = asyncio.Semaphore(concurrency)
    totals = {"calls": 0, "cost": 0.0}

    class State(TypedDict, total=False):
        text: str
        summary: str
        topics: Any
        sentiment: Any
        entities: Any
        report: str

    async def ask(prompt_id: str, text: str) -> Any:
        async with semaphore:
            answer, cost = await plain_call(prompts.get(prompt_id), text, MODEL, api_base)
        totals["calls"] += 1
        totals["cost"] += cost
        return answer

    async def summarize(state: State) -> State:
        return {"summary": (await ask("summarization", state["text"])).summary}

    async def topics(state: State) -> State:
        return {"topics": await ask("topic_extraction", state["summary"])}

    async def sentiment(state: State) -> State:
        return {"sentiment": await ask("sentiment", state["text"])}

    async def entities(state: State) -> State:
        return {"entities": await ask("entities", state["text"])}

    async def compile_report(state: State) -> State:
        return {"report": f"{state['summary']} {state['topics']} {state['sentiment']}"}

    graph = StateGraph(State)
    for name, node in [
        ("summarize", summarize),
        ("topics", topics),
        ("sentiment", sentiment),
        ("entities", entities),
        ("compile", compile_report),
    ]:
        graph.add_node(name, node)
    for name in ("summarize", "sentiment", "entities"):
        graph.add_edge(START, name)
    graph.add_edge("summarize", "topics")
    graph.add_edge(["topics", "sentiment", "entities"], "compile")
    graph.add_edge("compile", END)
    app = graph.compile()

    async def main() -> None:
        paths = sorted(folder.glob("*.txt"))
        queue: asyncio.Queue[Path | None] = asyncio.Queue()
        for p in paths:
            queue.put_nowait(p)
        workers = concurrency * 2
        for _ in range(workers):
            queue.put_nowait(None)

        async def worker() -> None:
            while (p := await queue.get()) is not None:
                await app.ainvoke({"text": p.read_text(encoding="utf-8").strip()})

        await asyncio.gather(*(worker() for _ in range(workers)))

    t0, cpu0 = time.perf_counter(), cpu_seconds()
    asyncio.run(main())
    return {
        "wall_s": time.perf_counter() - t0,
        "cpu_s": cpu_seconds() - cpu0,
        "cost_usd": totals["cost"],
        "calls": totals["calls"],
    }


def run_child(mode: str, args: argparse.Namespace, folder: Path, api_base: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", mode, "--folder", str(folder)]
    cmd += ["--api-base", api_base, "--concurrency", str(args.concurrency)]
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - t0, 3)
    result["process_cpu_ms_per_call"] = per_call(cpu_seconds() - cpu0, result["calls"])
    result["cpu_ms_per_call"] = per_call(result.pop("cpu_s"), result["calls"])
    result["wall_s"] = round(result["wall_s"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="Print only the JSON line.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--api-base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        phase = phase_langgraph if args.child == "langgraph" else phase_baseline
        print(json.dumps(phase(Path(args.folder), args.api_base, args.concurrency)))
        return

    from tests.support import StubConfig, start_stub_process
    from tests.support.corpus import write_corpus

    folder = Path(tempfile.mkdtemp(prefix="eightflow-peers-")) / "docs"
    write_corpus(folder, args.docs)
    report: dict[str, Any] = {
        "docs": args.docs,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
    }
    with start_stub_process(StubConfig(latency_ms=args.latency_ms)) as stub:
        for mode in ("asyncio", "langgraph", "asyncio"):  # the baseline twice: drift shows
            key = mode if mode not in report else f"{mode}_again"
            report[key] = run_child(mode, args, folder, stub.api_base)
            stub.reset()
            if not args.json:
                print(f"{key}: {report[key]}", file=sys.stderr, flush=True)
    base, graph = report["asyncio"], report["langgraph"]
    if "wall_s" in base and "wall_s" in graph:
        report["langgraph_ratio"] = round(graph["wall_s"] / base["wall_s"], 3)
        report["langgraph_process_ratio"] = round(
            graph["process_wall_s"] / base["process_wall_s"], 3
        )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
