"""``batch-sharded``: split a large folder into shards that run on any worker, then merge.

Each shard is a flow run of the ``batch-documents`` deployment with ``shard_index`` /
``shard_count`` set, so the work pool spreads them over its workers; the merged results
table and report are written once all shards are done.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.context import FlowRunContext
from prefect.deployments import run_deployment
from prefect.states import Failed
from pydantic import BaseModel, Field

from tasks.publishing import merge_shards


class ShardedParams(BaseModel):
    folder: str = Field(default="examples/documents", description="Folder of documents.")
    out: str = Field(default="out/sharded", description="Where merged results go.")
    shards: int = Field(default=2, ge=1, le=64, description="Flow runs to split the folder into.")
    deployment: str = Field(
        default="batch-documents/nightly", description="The batch deployment each shard runs as."
    )
    workflow: str = Field(default="document_analysis", description="Registered workflow.")
    model: str | None = Field(default=None, description="litellm model string.")
    concurrency: int = Field(default=8, ge=1, le=256, description="Model calls per shard.")
    max_cost_usd: float | None = Field(default=None, ge=0, description="Cap per shard.")
    api_base: str | None = Field(default=None, description="OpenAI-compatible endpoint.")
    refresh: bool = Field(default=False, description="Ignore cached results and answers.")


@flow(name="batch-sharded", log_prints=True)
async def batch_sharded(params: ShardedParams) -> Any:
    """Run every shard as its own flow run, wait for all, merge their outputs."""
    out = Path(params.out).expanduser().resolve()
    # Shards of this run write under a folder of its own: a merge never picks up the
    # shard folders an earlier run (or a failed shard of one) left behind.
    ctx = FlowRunContext.get()
    run_tag = str(ctx.flow_run.id)[:8] if ctx and ctx.flow_run else uuid.uuid4().hex[:8]
    shard_dirs = [
        out / "shards" / run_tag / f"shard-{i + 1}-of-{params.shards}" for i in range(params.shards)
    ]

    async def one(index: int) -> Any:
        shard = {
            "folder": str(Path(params.folder).expanduser().resolve()),
            "out": str(shard_dirs[index]),
            "workflow": params.workflow,
            "model": params.model,
            "concurrency": params.concurrency,
            "max_cost_usd": params.max_cost_usd,
            "api_base": params.api_base,
            "refresh": params.refresh,
            "shard_index": index,
            "shard_count": params.shards,
        }
        return await run_deployment(
            params.deployment,
            parameters={"params": shard},
            timeout=None,
            flow_run_name=f"shard-{index + 1}-of-{params.shards}",
            as_subflow=True,
        )

    runs = await asyncio.gather(*(one(i) for i in range(params.shards)))
    merged = merge_shards(shard_dirs, out)
    failed = [r.name for r in runs if r.state is None or not r.state.is_completed()]
    brief = {**merged, "shards": [str(r.id) for r in runs], "failed_shards": failed}
    print(f"merged {merged['documents']} documents from {params.shards} shards into {out}")
    if failed:
        return Failed(message=f"shards not completed: {', '.join(failed)}", data=brief)
    return brief
