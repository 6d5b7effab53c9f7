"""Chaos run: ``eightflow analyze`` against a stub that fails on purpose; figures as JSON.

    python bench/chaos.py --docs 200 --fault-rate 0.3            # mixed transient faults
    python bench/chaos.py --docs 20 --outage-s 60                 # a full outage, then recovery

The stub (``tests.support.stub_server``, its own process) answers ``--fault-rate`` of
requests with one of its transient faults at random (429 with and without Retry-After,
500, 503, a hang past the request timeout, a truncated body, a reset connection, an
answer outside the schema), seeded; ``--outage-s`` makes every request fail with 503
for that long from the first one, then recovers. The CLI runs in a child process against
a Prefect server of its own on a free port. The last line printed is JSON: documents,
completed, exit code, the faults the stub injected by kind, the faults the batch outlasted,
the documents that went through the final pass, concurrency changes, and wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parent.parent
KINDS = ["429", "429-retry-after", "500", "503", "timeout", "malformed", "reset", "schema"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--outage-s", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--request-timeout-s", type=float, default=2.0)
    parser.add_argument("--final-pass-s", type=float, default=600.0)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from eightflow.server.auth import client_env
    from eightflow.server.local import LocalServer
    from tests.support import StubConfig, start_stub_process
    from tests.support.corpus import write_corpus

    work = Path(tempfile.mkdtemp(prefix="eightflow-chaos-"))
    write_corpus(work / "docs", args.docs, seed=args.seed)
    home = work / "home"
    server = LocalServer(home=home, port=free_port())
    server.start()
    config = StubConfig(
        error_rate=args.fault_rate,
        error_kinds=KINDS,  # type: ignore[arg-type]
        error_selection="random",
        seed=args.seed,
        timeout_hang_s=args.request_timeout_s + 3,
        retry_after_s=1.0,
        outage_s=args.outage_s,
        outage_kind="503",
    )
    env = {
        **os.environ,
        "EIGHTFLOW_HOME": str(home),
        "PREFECT_API_URL": server.api_url,
        **client_env(home),  # the server asks for its auth string (eightflow.server.auth)
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "OPENAI_API_KEY": "sk-chaos-0123456789abcdef",
        "EIGHTFLOW_REQUEST_TIMEOUT_S": str(args.request_timeout_s),
        "PYTHONPATH": str(ROOT),
    }
    try:
        with start_stub_process(config) as stub:
            command = [
                sys.executable, "-m", "eightflow.cli.main", "analyze", str(work / "docs"),
                "--out", str(work / "out"), "--model", "openai/gpt-4o-mini",
                "--api-base", stub.api_base, "--concurrency", str(args.concurrency),
                "--final-pass-s", str(args.final_pass_s), "--json",
            ]  # fmt: skip
            t0 = time.perf_counter()
            proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - t0
            stats = stub.stats()
    finally:
        server.stop()
    try:
        brief = json.loads(proc.stdout)
    except ValueError:
        message = f"analyze printed no summary (exit {proc.returncode}):\n{proc.stderr}"
        raise SystemExit(message) from None
    injected = {k: v for k, v in stats["by_outcome"].items() if k not in ("ok", "bad_request")}
    report = {
        "docs": args.docs,
        "fault_rate": args.fault_rate,
        "outage_s": args.outage_s,
        "exit_code": proc.returncode,
        "completed": brief["completed"],
        "failed": brief["failed"],
        "requests": stats["calls"],
        "faults_injected": sum(injected.values()),
        "faults_by_kind": {k: v for k, v in injected.items() if v},
        "faults_outlasted": brief["faults_outlasted"],
        "final_pass_documents": brief["final_pass_documents"],
        "final_pass_recovered": brief["final_pass_recovered"],
        "concurrency_changes": brief["concurrency_changes"],
        "wall_s": round(wall, 1),
        "out": str(work / "out"),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
