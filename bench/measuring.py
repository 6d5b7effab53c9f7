"""What the benchmarks measure with: CPU of a process and its children, a running server's
CPU (and once it is idle), a free port, and how long the server took to record a batch.

Shared by ``bench/batch.py``, ``bench/peers.py``, ``bench/prefect_task.py`` and
``bench/scale.py`` (``bench/batch.py`` re-exports them).
"""

from __future__ import annotations

import os
import resource
import socket
import time
from pathlib import Path
from typing import Any


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu_s(pid: int | None) -> float:
    """CPU (user + system, every thread) a running process has used so far; 0 if unknown."""
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled_cpu_s(pid: int | None, quiet_s: float = 0.05, limit_s: float = 20.0) -> float:
    """``process_cpu_s`` once the process has gone idle: under ``quiet_s`` of CPU in a
    second (a server flushes its batched writes up to a few seconds after its clients)."""
    cpu = process_cpu_s(pid)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = process_cpu_s(pid)
        if now - cpu < quiet_s:
            return now
        cpu = now
    return cpu


def phase_recorded(flow_run_id: str, docs: int, since: float) -> dict[str, float]:
    """Seconds from ``since`` (the end of the eightflow phase's process) until the server
    holds every document's task run in a final state: the UI is complete from then on."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    flows = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    final = TaskRunFilter(
        state=TaskRunFilterState(
            type=TaskRunFilterStateType(any_=[StateType.COMPLETED, StateType.FAILED])
        )
    )

    async def wait() -> float:
        async with get_client() as client:
            while time.time() - since < 300:
                response = await client._client.post(  # the REST count endpoint
                    "/task_runs/count",
                    json={
                        "flow_runs": flows.model_dump(mode="json", exclude_unset=True),
                        "task_runs": final.model_dump(mode="json", exclude_unset=True),
                    },
                )
                done = int(response.json())
                if done >= docs:
                    return time.time() - since
                await asyncio.sleep(0.25)
        return float("nan")

    return {"wall_s": 0.0, "recorded_after_s": asyncio.run(wait())}


def per_call(cpu_s: float, calls: int) -> float | None:
    return round(cpu_s * 1000 / calls, 3) if calls else None


async def plain_call(prompt: Any, text: str, model: str, api_base: str) -> tuple[Any, float]:
    """The hand-written script's model call, the one every bench compares against (the
    plain script of ``batch.py``, ``gateway_call.py``'s plain side, ``peers.py``'s
    LangGraph nodes): ``litellm.acompletion`` as a careful engineer writes it, the answer
    parsed into the prompt's schema. Returns the answer and litellm's cost."""
    import litellm

    response = await litellm.acompletion(
        model=model,
        messages=prompt.render(text),
        api_base=api_base,
        api_key="sk-bench",
        response_format=prompt.output_schema,
        num_retries=0,
        max_retries=0,
        metadata={"eightflow_prompt_id": prompt.id, "eightflow_prompt_version": prompt.version},
        **prompt.params,
    )
    cost = float(response._hidden_params.get("response_cost") or 0.0)
    assert prompt.output_schema is not None
    return prompt.output_schema.model_validate_json(response.choices[0].message.content), cost
