"""Batch benchmark: eightflow against plain asyncio + litellm on the same workload.

    python bench/batch.py --docs 1000 --latency-ms 100 --concurrency 32 --json

Workload: N seeded synthetic documents; the document_analysis DAG (4 model calls per
document) on ``openai/gpt-4o-mini`` at the project's OpenAI-compatible stub (a separate
process, fixed latency). Three phases, each in its own child process so timings and peak
RSS are its own:

  (a) baseline: asyncio + litellm, the same prompts, the same concurrency;
  (b) eightflow: the batch-documents flow against a running local Prefect server;
  (c) eightflow again on the unchanged folder (served from cache), as a user would run
      it again: litellm is imported only if eightflow needs it.

With ``--peers`` (the ``bench`` extra: LangGraph), ``bench/peers.py``'s LangGraph side
runs between (a) and (b): the script, LangGraph and eightflow side by side from one
invocation (``langgraph_process_ratio`` is LangGraph's whole process over the script's).

With ``--rounds N``, N-1 more rounds of the script then eightflow follow, each on new
documents (another seed, so nothing is served from cache) against the same server and
stub: the JSON adds ``rounds`` (each round's whole-process walls, ``process_ratio``, CPU
per call and server CPU) and their medians (``process_ratio_median`` ...). This machine's
speed drifts by a third within an hour; one pair of runs says less than the median of
interleaved ones. ``--cached-runs N`` makes the cached re-run N times
(``cached_process_wall_s_runs`` and their median; ``cached_calls`` counts them all).

The last line printed is JSON: docs, calls, baseline_wall_s, eightflow_wall_s,
ideal_wall_s, cached_wall_s, cached_calls, peak_rss_mb, baseline_cost_usd,
eightflow_cost_usd, server_cpu_s (the Prefect server's CPU during phase (b);
``server_cpu_s_with_tail`` adds what it did once (b) had ended, until it was idle),
ui_complete_after_s (from the end of phase (b)'s process until the server held every
document's task run in a final state), plus a few extras.

``--containment`` writes the documents as HTML, so the batch parses every one of them in
the loader sandbox (a process pool under a memory ceiling and a time limit), and adds a
phase that loads each document both ways, one after another: ``containment_ms_per_doc``
is the sandbox's extra cost per document and ``containment_share`` that cost times the
documents over the batch's wall time (an upper bound: the batch loads in parallel).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = "openai/gpt-4o-mini"

from bench.measuring import (  # noqa: E402  (after ROOT is on the path)
    cpu_seconds,
    free_port,
    per_call,
    phase_recorded,
    plain_call,
    process_cpu_s,
    settled_cpu_s,
)

# -- phases (each runs in a child process) --------------------------------------------------


def phase_baseline(folder: Path, api_base: str, concurrency: int) -> dict[str, float]:
    """The hand-written script a careful engineer would write: no orchestration at all."""
    import asyncio

    import litellm

    from eightflow.prompts import PromptRegistry

    litellm.suppress_debug_info = True
    prompts = PromptRegistry(ROOT / "prompts")
    semaphore = asyncio.Semaphore(concurrency)
    cost = 0.0
    calls = 0

    async def ask(prompt_id: str, text: str) -> object:
        nonlocal cost, calls
        async with semaphore:
            answer, spent = await plain_call(prompts.get(prompt_id), text, MODEL, api_base)
        calls += 1
        cost += spent
        return answer

    async def document(path: Path) -> None:
        text = path.read_text(encoding="utf-8").strip()  # as eightflow's loader normalises

        async def summary_then_topics() -> None:
            summary = await ask("summarization", text)
            await ask("topic_extraction", summary.summary)  # type: ignore[attr-defined]

        await asyncio.gather(summary_then_topics(), ask("sentiment", text), ask("entities", text))

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
                await document(p)

        await asyncio.gather(*(worker() for _ in range(workers)))

    t0, cpu0 = time.perf_counter(), cpu_seconds()
    asyncio.run(main())
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "cpu_s": cpu_seconds() - cpu0, "cost_usd": cost, "calls": calls}


def phase_eightflow(
    folder: Path,
    out: Path,
    api_base: str,
    concurrency: int,
    granularity: str = "document",
    workers: int | None = None,
    cached: bool = False,
) -> dict[str, float]:
    import asyncio

    from eightflow_app.flows.batch_documents import BatchParams, batch_documents

    if not cached:  # litellm's import, like the baseline's, is not timed in ``wall_s``
        import eightflow.gateway.call  # noqa: F401
    # A re-run of an unchanged folder imports litellm only if eightflow needs it (it does
    # not: every answer is in the cache), as when a user runs ``eightflow analyze`` again.

    params = BatchParams(
        folder=str(folder),
        out=str(out),
        model=MODEL,
        concurrency=concurrency,
        granularity=granularity,
        **({"workers": workers} if workers is not None else {}),
    )
    # The benchmark is the operator: its stub's base URL and model are configured ones.
    os.environ["EIGHTFLOW_API_BASE"] = api_base
    os.environ["EIGHTFLOW_ALLOWED_MODELS"] = MODEL
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    state = asyncio.run(batch_documents(**params.flow_parameters(), return_state=True))
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    try:
        brief = state.result(raise_on_failure=False)
    except Exception:
        brief = None
    brief = brief if isinstance(brief, dict) else {}
    # The stdlib's reader: importing pandas here would add ~0.3 s to the timed process.
    import csv

    with (out / "results.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "workers": int(brief.get("workers") or 1),
        "documents_per_worker": brief.get("documents_per_worker") or [],
        "workers_peak_rss_mb": float(brief.get("peak_rss_mb") or 0.0),
        "cpu_s_per_worker": brief.get("cpu_s_per_worker") or [],
        "state": state.name,
        "flow_run_id": str(state.state_details.flow_run_id),
        "completed": sum(row["status"] == "completed" for row in rows),
        "cost_usd": sum(float(row["cost_usd"] or 0) for row in rows),
        "litellm_imported": "litellm" in sys.modules,
    }


def phase_containment(folder: Path) -> dict[str, float]:
    """Each document loaded in-process and through the sandbox; the difference per document."""
    from eightflow_app.tasks.loading import iter_document_paths, load_document
    from eightflow_app.tasks.loading.sandbox import sandboxed_load_document, shared_sandbox

    paths = list(iter_document_paths(folder, None, None, True))
    sandboxed_load_document(paths[0], folder)  # the pool's start-up is once per batch
    timings: dict[str, float] = {}
    for _round in range(3):  # alternating, best of three: a busy machine adds noise to both
        for name, load in (("direct", load_document), ("sandboxed", sandboxed_load_document)):
            t0 = time.perf_counter()
            for path in paths:
                load(path, folder)
            elapsed = (time.perf_counter() - t0) * 1000 / len(paths)
            timings[name] = min(timings.get(name, elapsed), elapsed)
    shared_sandbox().close()
    return {
        "wall_s": 0.0,
        "direct_ms_per_doc": timings["direct"],
        "sandboxed_ms_per_doc": timings["sandboxed"],
    }


def as_html(folder: Path) -> None:
    import html

    for path in sorted(folder.glob("*.txt")):
        lines = path.read_text().splitlines()
        body = "".join(f"<p>{html.escape(line)}</p>" for line in lines[1:] if line)
        path.with_suffix(".html").write_text(
            f"<html><head><title>{html.escape(lines[0])}</title></head><body>{body}</body></html>"
        )
        path.unlink()


def run_child(mode: str, args: argparse.Namespace, env: dict[str, str], **extra: str) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--docs",
        str(args.docs),
        "--concurrency",
        str(args.concurrency),
        "--granularity",
        args.granularity,
    ]
    if args.workers is not None:
        cmd += ["--workers", str(args.workers)]
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}", value]
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    process_wall = time.perf_counter() - t0
    ended = time.time()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} phase failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = process_wall
    result["ended"] = ended
    result["process_cpu_s"] = cpu_seconds() - cpu0  # the whole child, imports included
    return result


def run_langgraph(
    args: argparse.Namespace, env: dict[str, str], folder: Path, api_base: str
) -> dict:
    """``bench/peers.py``'s LangGraph side (the same DAG, prompts and stub) as one more child."""
    cmd = [sys.executable, str(Path(__file__).with_name("peers.py")), "--child", "langgraph"]
    cmd += ["--folder", str(folder), "--api-base", api_base, "--concurrency", str(args.concurrency)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:  # e.g. langgraph not installed (pip install -e '.[bench]')
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = time.perf_counter() - t0
    return result


def child_main(args: argparse.Namespace) -> None:
    if args.child == "baseline":
        result = phase_baseline(Path(args.folder), args.api_base, args.concurrency)
    elif args.child == "recorded":
        result = phase_recorded(args.flow_run_id, args.docs, float(args.since))
    elif args.child == "containment":
        result = phase_containment(Path(args.folder))
    else:
        result = phase_eightflow(
            Path(args.folder),
            Path(args.out),
            args.api_base,
            args.concurrency,
            args.granularity,
            args.workers,
            cached=bool(args.cached),
        )
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure_round(
    args: argparse.Namespace,
    env: dict[str, str],
    folder: Path,
    out: Path,
    stub: Any,
    server: Any,
    say: Any,
) -> dict[str, Any]:
    """One round: the script (unless skipped), LangGraph (with ``--peers``), then eightflow,
    on ``folder``, with the server's CPU during eightflow's phase."""
    if args.skip_baseline:
        base: dict[str, Any] = {
            "wall_s": float("nan"),
            "process_wall_s": float("nan"),
            "cpu_s": float("nan"),
            "process_cpu_s": float("nan"),
            "cost_usd": float("nan"),
            "peak_rss_mb": 0.0,
        }
        base_calls = 0
    else:
        say("(a) baseline: asyncio + litellm")
        base = run_child("baseline", args, env, folder=str(folder), api_base=stub.api_base)
        base_calls = stub.stats()["calls"]
        stub.reset()
    peer: dict[str, Any] = {}
    if args.peers:
        say("(a2) LangGraph")
        peer = run_langgraph(args, env, folder, stub.api_base)
        stub.reset()
    say(f"    {base['wall_s']:.1f} s; (b) eightflow")
    server_cpu0 = process_cpu_s(server.recorded_pid())
    first = run_child(
        "eightflow", args, env, folder=str(folder), out=str(out), api_base=stub.api_base
    )
    server_cpu = process_cpu_s(server.recorded_pid()) - server_cpu0
    calls = stub.stats()["calls"]
    stub.reset()
    return {
        "base": base,
        "eightflow": first,
        "peer": peer,
        "baseline_calls": base_calls,
        "calls": calls,
        "server_cpu_s": server_cpu,
        "server_cpu0": server_cpu0,
    }


def _measured(value: Any) -> bool:
    """A figure a round has (not absent, not NaN: the script skipped)."""
    return isinstance(value, int | float) and not math.isnan(value)


def round_summary(measured: dict[str, Any]) -> dict[str, Any]:
    """What ``--rounds`` reports of each round."""
    base, first = measured["base"], measured["eightflow"]
    summary: dict[str, Any] = {
        "baseline_process_wall_s": round(base["process_wall_s"], 3),
        "eightflow_process_wall_s": round(first["process_wall_s"], 3),
        "process_ratio": round(first["process_wall_s"] / base["process_wall_s"], 3),
        "baseline_process_cpu_ms_per_call": per_call(
            base["process_cpu_s"], measured["baseline_calls"]
        ),
        "eightflow_process_cpu_ms_per_call": per_call(first["process_cpu_s"], measured["calls"]),
        "server_cpu_s": round(measured["server_cpu_s"], 3),
        "completed": first["completed"],
    }
    peer = measured.get("peer") or {}
    if "process_wall_s" in peer:
        summary["langgraph_process_ratio"] = round(
            peer["process_wall_s"] / base["process_wall_s"], 3
        )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="Print only the JSON line.")
    parser.add_argument(
        "--granularity",
        choices=["document", "step"],
        default="document",
        help="Prefect task per document (default) or per step per document.",
    )
    parser.add_argument(
        "--skip-baseline",
        action="store_true",
        help="Only the eightflow phases (e.g. for the 10,000-document memory check).",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="eightflow worker processes (default: the flow default, 1; 0 = one per core).",
    )
    parser.add_argument(
        "--containment",
        action="store_true",
        help="HTML documents (parsed in the loader sandbox) and the sandbox's cost per document.",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="Also run bench/peers.py's LangGraph side (needs the bench extra), between the "
        "script and eightflow: the three side by side from one invocation.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="Rounds of script then eightflow, each on new documents (the same server and "
        "stub): adds each round's figures and the medians, against a machine whose speed "
        "drifts between runs.",
    )
    parser.add_argument(
        "--cached-runs",
        type=int,
        default=1,
        help="Times the cached re-run (phase c) is made, one after another: adds each "
        "one's whole-process wall and their median (the first follows the batch at once, "
        "while the server may still be writing its last events).",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--api-base", help=argparse.SUPPRESS)
    parser.add_argument("--flow-run-id", help=argparse.SUPPRESS)
    parser.add_argument("--since", help=argparse.SUPPRESS)
    parser.add_argument("--cached", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return

    from eightflow.server.auth import client_env
    from eightflow.server.local import LocalServer
    from tests.support import StubConfig, start_stub_process
    from tests.support.corpus import write_corpus

    def say(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    work = Path(tempfile.mkdtemp(prefix="eightflow-bench-"))
    folder = work / "docs"
    write_corpus(folder, args.docs)
    if args.containment:
        as_html(folder)
    home = work / "home"
    server = LocalServer(home=home, port=free_port())
    say(f"starting a Prefect server on {server.url} and a stub with {args.latency_ms} ms latency")
    server.start()
    env = {
        **os.environ,
        "EIGHTFLOW_HOME": str(home),
        "PREFECT_API_URL": server.api_url,
        **client_env(home),  # the server asks for its auth string (eightflow.server.auth)
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    try:
        with start_stub_process(StubConfig(latency_ms=args.latency_ms)) as stub:
            first_round = measure_round(args, env, folder, work / "out1", stub, server, say)
            base, first = first_round["base"], first_round["eightflow"]
            base_calls, calls = first_round["baseline_calls"], first_round["calls"]
            server_cpu = first_round["server_cpu_s"]
            server_cpu0 = first_round["server_cpu0"]
            recorded = run_child(
                "recorded", args, env, flow_run_id=first["flow_run_id"], since=str(first["ended"])
            )
            # With what the server did after the batch's process ended (batched writes
            # flushed later, and the count queries of the "recorded" phase: an upper bound).
            server_cpu_tail = settled_cpu_s(server.recorded_pid()) - server_cpu0
            say(f"    {first['wall_s']:.1f} s; (c) eightflow, unchanged folder")
            reruns = [
                run_child(
                    "eightflow",
                    args,
                    env,
                    folder=str(folder),
                    out=str(work / f"out2-{number}"),
                    api_base=stub.api_base,
                    cached="1",
                )
                for number in range(max(1, args.cached_runs))
            ]
            cached = reruns[0]
            cached_calls = stub.stats()["calls"]
            contained = (
                run_child("containment", args, env, folder=str(folder))
                if args.containment
                else None
            )
            rounds = [first_round]
            for number in range(2, args.rounds + 1):  # each on documents of its own
                say(f"round {number} of {args.rounds}")
                again = work / f"docs-{number}"
                write_corpus(again, args.docs, seed=number)
                out = work / f"out-round-{number}"
                rounds.append(measure_round(args, env, again, out, stub, server, say))
    finally:
        server.stop()
    report = {
        "docs": args.docs,
        "calls": calls,
        "baseline_calls": base_calls,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "baseline_wall_s": round(base["wall_s"], 3),
        "eightflow_wall_s": round(first["wall_s"], 3),
        "eightflow_process_wall_s": round(first["process_wall_s"], 3),
        "baseline_process_wall_s": round(base["process_wall_s"], 3),
        "process_ratio": round(first["process_wall_s"] / base["process_wall_s"], 3),
        "workers": first["workers"],
        # CPU per model call in the timed region (children that ended included), and for
        # the whole child process (imports and start-up included).
        "baseline_cpu_ms_per_call": per_call(base["cpu_s"], base_calls),
        "eightflow_cpu_ms_per_call": per_call(first["cpu_s"], calls),
        "baseline_process_cpu_ms_per_call": per_call(base["process_cpu_s"], base_calls),
        "eightflow_process_cpu_ms_per_call": per_call(first["process_cpu_s"], calls),
        # The Prefect server's CPU during the eightflow phase (it shares the machine), and
        # how long after that phase's process ended the UI had every document's task run.
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_s_with_tail": round(server_cpu_tail, 3),
        "ui_complete_after_s": round(recorded["recorded_after_s"], 3),
        "ideal_wall_s": round(calls * args.latency_ms / 1000 / args.concurrency, 3),
        "ratio": round(first["wall_s"] / base["wall_s"], 3),
        "cached_wall_s": round(cached["wall_s"], 3),
        "cached_fraction": round(cached["wall_s"] / first["wall_s"], 3),
        "cached_process_wall_s": round(cached["process_wall_s"], 3),
        "cached_calls": cached_calls,
        "cached_litellm_imported": cached["litellm_imported"],
        "cached_process_wall_s_runs": [round(r["process_wall_s"], 3) for r in reruns],
        "cached_process_wall_s_median": round(
            statistics.median(r["process_wall_s"] for r in reruns), 3
        ),
        "peak_rss_mb": round(first["peak_rss_mb"], 1),
        # Summed over the flow's process and its worker processes (when there are some).
        "peak_rss_mb_all_processes": round(
            max(first["peak_rss_mb"], first.get("workers_peak_rss_mb") or 0.0), 1
        ),
        "documents_per_worker": first.get("documents_per_worker"),
        "cpu_s_per_worker": first.get("cpu_s_per_worker"),
        "baseline_peak_rss_mb": round(base["peak_rss_mb"], 1),
        "baseline_cost_usd": round(base["cost_usd"], 8),
        "eightflow_cost_usd": round(first["cost_usd"], 8),
        "completed": first["completed"],
        "granularity": args.granularity,
    }
    if args.rounds > 1:
        report["rounds"] = [round_summary(r) for r in rounds]
        for key in (
            "process_ratio",
            "baseline_process_cpu_ms_per_call",
            "eightflow_process_cpu_ms_per_call",
            "server_cpu_s",
            *(("langgraph_process_ratio",) if args.peers else ()),
        ):
            values = [r[key] for r in report["rounds"] if _measured(r.get(key))]
            report[f"{key}_median"] = round(statistics.median(values), 3) if values else None
    peer = first_round.get("peer") or {}
    if args.peers:
        if "error" in peer:
            report["langgraph_error"] = peer["error"]
        else:
            report["langgraph_wall_s"] = round(peer["wall_s"], 3)
            report["langgraph_process_wall_s"] = round(peer["process_wall_s"], 3)
            report["langgraph_process_ratio"] = round(
                peer["process_wall_s"] / base["process_wall_s"], 3
            )
            report["langgraph_cpu_ms_per_call"] = per_call(peer["cpu_s"], peer["calls"])
    if contained is not None:
        extra_ms = contained["sandboxed_ms_per_doc"] - contained["direct_ms_per_doc"]
        report["containment_ms_per_doc"] = round(extra_ms, 3)
        report["containment_share"] = round(extra_ms * args.docs / 1000 / first["wall_s"], 4)
        report["load_ms_per_doc"] = round(contained["direct_ms_per_doc"], 3)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
