"""``batch-sharded``: split a large folder into shards that run on any worker, then merge.

Each shard is a flow run of the ``batch-documents`` deployment with ``shard_index`` /
``shard_count`` set, so the work pool spreads them over its workers; the merged results
table and report are written once all shards are done. ``concurrency`` and ``max_cost_usd``
are the whole batch's: the shards share them through Prefect global concurrency limits
named after this run (:class:`eightflow.batch.shared_bounds.BatchLimits`), created before
the first shard starts and deleted when the batch ends.
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

from eightflow.batch.params import FORM_CHECKS, BatchParams, shared_field
from eightflow.batch.shared_bounds import BatchLimits
from eightflow.safety.form_types import flat_parameters
from eightflow.safety.path_roots import check_output_dir, check_readable


def _batch_deployment(name: str) -> str:
    if not name.startswith("batch-documents/"):
        raise ValueError(f"'{name}' is not a batch-documents deployment")
    return name


#: Options each shard's batch takes as they are: same field (type, bounds, description).
SHARED = ("folder", "workflow", "model", "concurrency", "max_cost_usd", "refresh")


class ShardedParams(BaseModel):
    """A sharded batch's options: the single source of the flow's flat parameters. The
    options it shares with ``batch-documents`` are that flow's own fields."""

    folder: str = shared_field(BatchParams, "folder")
    out: str = Field(
        default="out/sharded",
        description="Where merged results go, inside the output root (EIGHTFLOW_OUT_ROOT).",
    )
    shards: int = Field(default=2, ge=1, le=64, description="Flow runs to split the folder into.")
    deployment: Annotated[str, AfterValidator(_batch_deployment)] = Field(
        default="batch-documents/nightly",
        description="The batch-documents deployment each shard runs as.",
    )
    workflow: str = shared_field(BatchParams, "workflow")
    model: str | None = shared_field(BatchParams, "model")
    concurrency: int = shared_field(BatchParams, "concurrency")
    max_cost_usd: float | None = shared_field(BatchParams, "max_cost_usd")
    refresh: bool = shared_field(BatchParams, "refresh")


@flow(name="batch-sharded", log_prints=True)
@flat_parameters(ShardedParams, checks=FORM_CHECKS)
async def batch_sharded(**options: Any) -> Any:
    """Run every shard as its own flow run, wait for all, merge their outputs."""
    params = ShardedParams(**options)
    folder, out, shards = params.folder, params.out, params.shards
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
            **params.model_dump(include=set(SHARED) - {"folder"}),
            "shard_index": index,
            "shard_count": shards,
            "batch_key": limits.key,
        }
        return await arun_deployment(
            params.deployment,
            parameters=shard,
            timeout=None,
            flow_run_name=f"shard-{index + 1}-of-{shards}",
            as_subflow=True,
        )

    limits = BatchLimits(run_tag, params.concurrency, params.max_cost_usd)
    await limits.create()  # before any shard starts: the bounds are the whole batch's
    try:
        runs = await asyncio.gather(*(one(i) for i in range(shards)))
    finally:
        await limits.delete()
    merged = merge_shards(shard_dirs, out_dir)
    failed = [r.name for r in runs if r.state is None or not r.state.is_completed()]
    brief = {**merged, "shards": [str(r.id) for r in runs], "failed_shards": failed}
    print(f"merged {merged['documents']} documents from {shards} shards into {out_dir}")
    if failed:
        return Failed(message=f"shards not completed: {', '.join(failed)}", data=brief)
    return brief
