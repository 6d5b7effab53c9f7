"""``batch-sharded``: split a large folder into shards that run on any worker, then merge.

Each shard is a flow run of the ``batch-documents`` deployment with ``shard_index`` /
``shard_count`` set, so the work pool spreads them over its workers; the merged results
table and report are written once all shards are done.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from eightflow_app.tasks.publishing import merge_shards
from prefect import flow
from prefect.context import FlowRunContext
from prefect.deployments.flow_runs import arun_deployment
from prefect.states import Failed
from pydantic import AfterValidator, BaseModel, Field

from eightflow.path_roots import check_output_dir, check_readable
from eightflow.run_form import AllowedModel, OutputFolder, ReadablePath


class ShardedParams(BaseModel):
    """A sharded batch's options as one object, for code (benchmarks)."""

    folder: str = "examples/documents"
    out: str = "out/sharded"
    shards: int = Field(default=2, ge=1, le=64)
    deployment: str = "batch-documents/nightly"
    workflow: str = "document_analysis"
    model: str | None = None
    concurrency: int = Field(default=8, ge=1, le=256)
    max_cost_usd: float | None = Field(default=None, ge=0)
    refresh: bool = False


def _batch_deployment(name: str) -> str:
    if not name.startswith("batch-documents/"):
        raise ValueError(f"'{name}' is not a batch-documents deployment")
    return name


@flow(name="batch-sharded", log_prints=True)
async def batch_sharded(
    folder: ReadablePath = "examples/documents",
    out: OutputFolder = "out/sharded",
    shards: Annotated[int, Field(ge=1, le=64)] = 2,
    deployment: Annotated[str, AfterValidator(_batch_deployment)] = "batch-documents/nightly",
    workflow: str = "document_analysis",
    model: AllowedModel = None,
    concurrency: Annotated[int, Field(ge=1, le=256)] = 8,
    max_cost_usd: Annotated[float | None, Field(ge=0)] = None,
    refresh: bool = False,
) -> Any:
    """Run every shard as its own flow run, wait for all, merge their outputs.

    Args:
        folder: Folder of documents, inside the data roots (EIGHTFLOW_DATA_ROOTS).
        out: Where merged results go, inside the output root (EIGHTFLOW_OUT_ROOT).
        shards: Flow runs to split the folder into (1 to 64).
        deployment: The batch-documents deployment each shard runs as.
        workflow: Registered workflow.
        model: A model from the operator's list (EIGHTFLOW_ALLOWED_MODELS).
        concurrency: Model calls in flight per shard.
        max_cost_usd: Spend cap per shard in USD; empty: none.
        refresh: Ignore cached results and answers.
    """
    out_dir = check_output_dir(out)
    # Shards of this run write under a folder of its own: a merge never picks up the
    # shard folders an earlier run (or a failed shard of one) left behind.
    ctx = FlowRunContext.get()
    run_tag = str(ctx.flow_run.id)[:8] if ctx and ctx.flow_run else uuid.uuid4().hex[:8]
    shard_dirs = [
        out_dir / "shards" / run_tag / f"shard-{i + 1}-of-{shards}" for i in range(shards)
    ]

    async def one(index: int) -> Any:
        shard = {
            "folder": str(check_readable(folder)),
            "out": str(shard_dirs[index]),
            "workflow": workflow,
            "model": model,
            "concurrency": concurrency,
            "max_cost_usd": max_cost_usd,
            "refresh": refresh,
            "shard_index": index,
            "shard_count": shards,
        }
        return await arun_deployment(
            deployment,
            parameters=shard,
            timeout=None,
            flow_run_name=f"shard-{index + 1}-of-{shards}",
            as_subflow=True,
        )

    runs = await asyncio.gather(*(one(i) for i in range(shards)))
    merged = merge_shards(shard_dirs, out_dir)
    failed = [r.name for r in runs if r.state is None or not r.state.is_completed()]
    brief = {**merged, "shards": [str(r.id) for r in runs], "failed_shards": failed}
    print(f"merged {merged['documents']} documents from {shards} shards into {out_dir}")
    if failed:
        return Failed(message=f"shards not completed: {', '.join(failed)}", data=brief)
    return brief
