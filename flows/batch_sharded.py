"""``batch-sharded``: split a large folder into shards that run on any worker, then merge.

Each shard is a flow run of the ``batch-documents`` deployment with ``shard_index`` /
``shard_count`` set, so the work pool spreads them over its workers. The coordinator never
waits blind (``eightflow_app.tasks.shard_watch``): it names a shard that makes no progress
for ``shard_stall_after_s`` with its state, and at ``shard_deadline_s`` it stops waiting,
merges the shards that finished, cancels the others and lists the command that re-runs
each of them alone. It ends Completed only when every shard completed.
``concurrency`` and ``max_cost_usd`` are the whole batch's: the shards share them through
Prefect global concurrency limits named after this run
(:class:`eightflow.batch.shared_bounds.BatchLimits`), created before the first shard starts
and deleted when the batch ends.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated, Any

from eightflow_app.tasks.publishing import merge_shards
from eightflow_app.tasks.shard_watch import (
    Shard,
    ShardWatch,
    cancel_shards,
    poll_interval,
    read_shard_views,
    rerun_command,
    shard_run_name,
    watch_shards,
)
from prefect import get_run_logger
from prefect.context import FlowRunContext
from prefect.deployments.flow_runs import arun_deployment
from prefect.states import Failed
from pydantic import AfterValidator, BaseModel, Field, field_validator

from eightflow.batch.params import FORM_CHECKS, BatchParams, shared_field
from eightflow.batch.shared_bounds import BatchLimits
from eightflow.compiler.flows import flow
from eightflow.safety.form_types import flat_parameters, none_if_empty, to_form
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
    shard_stall_after_s: float = Field(
        default=300.0,
        ge=1,
        description="A shard whose state and documents done have not changed for this many "
        "seconds is named as late in the coordinator's log, with its state.",
    )
    shard_deadline_s: float | None = Field(
        default=14400.0,
        ge=0,
        description="Seconds the coordinator waits for its shards; then it merges those that "
        "finished, cancels the others and lists the command that re-runs each alone. "
        "0 or empty: no limit.",
    )

    @field_validator("model", "max_cost_usd", "shard_deadline_s", mode="before")
    @classmethod
    def _form_empty_is_none(cls, value: Any) -> Any:
        """The Run form sends 0 or "" for "none" (no optional form fields)."""
        return none_if_empty(value)


@flow(name="batch-sharded", log_prints=True)
@flat_parameters(ShardedParams, checks=FORM_CHECKS)
async def batch_sharded(**options: Any) -> Any:
    """Run every shard as its own flow run, watch them (late ones named, up to the
    deadline), merge the outputs of those that ran to their end."""
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

    def shard_parameters(index: int) -> dict[str, Any]:
        return {
            "folder": str(check_readable(folder)),
            "out": str(shard_dirs[index]),
            **to_form(BatchParams, params.model_dump(include=set(SHARED) - {"folder"})),
            "shard_index": index,
            "shard_count": shards,
            "batch_key": limits.key,
        }

    async def start(index: int) -> Shard:
        parameters = shard_parameters(index)
        run = await arun_deployment(
            params.deployment,
            parameters=parameters,
            timeout=0,  # created, not awaited: the watch below follows every shard
            flow_run_name=shard_run_name(index, shards),
            as_subflow=True,
        )
        return Shard(index, shards, str(run.id), parameters)

    logger = get_run_logger()
    limits = BatchLimits(run_tag, params.concurrency, params.max_cost_usd)
    await limits.create()  # before any shard starts: the bounds are the whole batch's
    try:
        watch = ShardWatch(
            shards=list(await asyncio.gather(*(start(i) for i in range(shards)))),
            stall_after_s=params.shard_stall_after_s,
            deadline_s=params.shard_deadline_s,
            started=time.monotonic(),
            log=logger.info,
            warn=logger.warning,
        )
        await watch_shards(watch, read_shard_views, poll_interval(params.shard_stall_after_s))
        return await _conclude(watch, params, shard_dirs, out_dir)
    finally:
        await limits.delete()


async def _conclude(
    watch: ShardWatch, params: ShardedParams, shard_dirs: list[Any], out_dir: Any
) -> Any:
    """Merge the shards that ran to their end; cancel and list the others."""
    logger = get_run_logger()
    ended = [s for s in watch.shards if s.state_type in ("COMPLETED", "FAILED")]
    unfinished = watch.unfinished()
    # Cancelled first: a merge that fails (a full disk, a bad shard file) must not leave
    # the shards the coordinator gave up on running behind its back.
    for problem in await cancel_shards(unfinished):
        logger.warning(problem)
    merged = merge_shards([shard_dirs[s.index] for s in ended], out_dir)
    now = time.monotonic()
    rerun = {s.name: rerun_command(params.deployment, s) for s in unfinished}
    brief = {
        **merged,
        "shards": [s.flow_run_id for s in watch.shards],
        "merged_shards": [s.name for s in ended],
        "failed_shards": [s.name for s in unfinished],
        "late_shards": [s.name for s in watch.shards if s.late and not s.final],
        "shard_states": {s.name: s.state_name for s in watch.shards},
        "rerun": rerun,
    }
    logger.info(
        f"merged {merged['documents']} documents from {len(ended)} of {len(watch.shards)} "
        f"shards into {out_dir}"
    )
    if not unfinished:
        return brief
    for name, command in rerun.items():
        logger.warning(f"re-run {name} alone: {command}")
    names = "; ".join(s.describe(now) for s in unfinished)
    commands = " ; ".join(rerun.values())
    message = (
        f"{len(unfinished)} of {len(watch.shards)} shards not completed: {names}. "
        f"Merged {merged['documents']} documents from {len(ended)} shard(s). "
        f"Re-run each alone: {commands}"
    )
    return Failed(message=message, data=brief)
