"""A pre-imported process that forks one child per batch run, for the kill -9 tests.

Importing litellm and Prefect takes 5-15 s here; forty batch runs each paying it would
take minutes. This process imports everything once, before any thread or event loop
exists, then reads one JSON job per line on stdin, forks a child for it (the child sets
the job's environment, runs the batch flow or a shard merge, and exits), waits, and
writes ``{"code": <exit code, or -signal>}`` on stdout.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import eightflow_app.flows.batch_documents
import eightflow_app.tasks.publishing  # noqa: F401

import eightflow.gateway.call  # noqa: F401  (litellm, imported once for every child)

REPLY = "@zygote "  # marks the lines of the protocol among anything a child printed


def child(job: dict[str, object]) -> int:
    import asyncio

    os.environ.update({k: str(v) for k, v in dict(job.get("env") or {}).items()})
    Path(str(job["log"])).parent.mkdir(parents=True, exist_ok=True)
    log = os.open(str(job["log"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    if job["kind"] == "merge":
        from eightflow_app.tasks.publishing import merge_shards

        merge_shards([Path(p) for p in job["shards"]], Path(str(job["out"])))  # type: ignore[union-attr]
        return 0
    from eightflow_app.flows.batch_documents import BatchParams, batch_documents

    params = BatchParams.model_validate(job["params"])
    # The job is the operator: its stub's base URL and model are configured ones.
    if params.api_base:
        os.environ["EIGHTFLOW_API_BASE"] = params.api_base
    if params.model:
        os.environ["EIGHTFLOW_ALLOWED_MODELS"] = params.model
    state = asyncio.run(batch_documents(**params.flow_parameters(), return_state=True))
    print(f"state: {state.name}: {state.message}", flush=True)
    return 0 if state.is_completed() else 1


def main() -> None:
    print(REPLY + json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                code = child(job)
            except BaseException as exc:  # the child's failure is its exit code
                print(f"child failed: {type(exc).__name__}: {exc}", flush=True)
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(REPLY + json.dumps({"code": code}), flush=True)


if __name__ == "__main__":
    main()
