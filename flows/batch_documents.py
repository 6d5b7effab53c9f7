"""``batch-documents``: run a workflow over every document in a folder.

Thin: it resolves the folder, streams paths from ``eightflow_app.tasks.loading``, and hands them to
the engine's ``BatchRunner``; results go to files (``eightflow_app.tasks.publishing``) and
artifacts (``eightflow_app.tasks.batch_artifacts``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from eightflow_app.tasks.batch_artifacts import ProgressArtifact, publish_batch_artifacts
from eightflow_app.tasks.batch_log import BatchLog, batch_logger
from eightflow_app.tasks.loading import iter_document_paths
from eightflow_app.tasks.loading.sandbox import sandboxed_load_document
from eightflow_app.tasks.out_lock import OutDirLock
from eightflow_app.tasks.publishing import ResultsWriter
from prefect.context import FlowRunContext
from prefect.states import Failed

from eightflow.batch import BatchRunner
from eightflow.batch.params import FLOW_EXCLUDES, FORM_CHECKS, FORM_ORDER, BatchParams
from eightflow.batch.runner import in_shard
from eightflow.compiler.flows import flow
from eightflow.registry import load_workflow
from eightflow.safety.form_types import flat_parameters
from eightflow.safety.path_roots import check_output_dir, check_readable

__all__ = ["BatchParams", "batch_documents"]


def _runner_class(mode: str) -> Any:
    """The online runner, or the one that sends calls through the provider's Batch API."""
    if mode == "batch-api":
        from eightflow.batch.batch_api import BatchApiRunner

        return BatchApiRunner
    return BatchRunner


@flow(name="batch-documents", log_prints=True)
@flat_parameters(BatchParams, exclude=FLOW_EXCLUDES, first=FORM_ORDER, checks=FORM_CHECKS)
async def batch_documents(**options: Any) -> Any:
    """Analyse a folder; returns counts, cost and where the results are.

    The parameters are the fields of ``BatchParams`` (eightflow.batch.params), with its
    descriptions: the Run form, ``--param`` and ``eightflow analyze`` share them.
    """
    return await _run_batch(BatchParams(**options))


async def _run_batch(params: BatchParams) -> Any:
    root = check_readable(params.folder)  # the default is checked too
    workflow = load_workflow(params.workflow)(
        model=params.model, api_base=params.api_base, review_below=params.review_below
    )

    def paths() -> Any:
        return iter_document_paths(
            root, params.include or None, params.exclude or None, params.recursive
        )

    # This flow run's documents: a shard's progress and log count its own share only.
    expected = sum(1 for _ in in_shard(paths(), root, params.shard_index, params.shard_count))
    out = check_output_dir(params.out)
    # Waiting for another batch's lock on the folder must not block this event loop.
    writer = ResultsWriter(out, lock=await asyncio.to_thread(OutDirLock(out).acquire))
    progress = await ProgressArtifact.create(expected)
    log = BatchLog(batch_logger(), expected)  # start, every 10%, end: to the UI at INFO
    log.start(params.workflow, str(root), str(out))
    runner = _runner_class(params.mode)(
        workflow,
        params.batch_options(),
        paths(),
        root,
        loader=sandboxed_load_document,  # by reference: worker processes import it
        sinks=[writer, progress, log],
    )
    runner.summary.expected = expected
    if params.mode == "batch-api":
        from eightflow_app.tasks.batch_api_progress import BatchApiProgress

        runner.progress = BatchApiProgress()
    ctx = FlowRunContext.get()
    runner.batch_id = str(ctx.flow_run.id) if ctx and ctx.flow_run else None
    runner.out_dir = str(out)
    try:
        summary = await runner.run()
    except BaseException:
        writer.release()
        raise
    summary.flow_run_id = runner.batch_id
    # The last progress update and the summary and results artifacts, sent together.
    await asyncio.gather(progress.flush(), publish_batch_artifacts(summary, writer.rows))
    queue_run = None
    if summary.needs_review:
        from eightflow.review.batch import publish_pending_reviews
        from eightflow.review.queue import start_review_queue

        queue_run = await start_review_queue(runner.batch_id)  # decided in the UI
        await publish_pending_reviews(runner.batch_id, queue_run)
    brief = {**summary.brief(), "out": str(out), "target_breaches": runner.target_breaches}
    if summary.needs_review:
        brief["review_queue_run"] = queue_run
    if params.mode == "batch-api":
        from eightflow_app.tasks.batch_api_progress import reschedule_if_waiting

        brief["next_poll_flow_run"] = await reschedule_if_waiting(
            summary, delay_s=params.batch_max_wait_s
        )
    if not brief["success"]:
        return Failed(message="; ".join(brief["reasons"]), data=brief)
    if summary.needs_review:  # never a bare "success" while documents wait for people
        from prefect.states import Completed

        message = f"{brief['headline']}: see `eightflow review list`"
        return Completed(message=message, data=brief)
    return brief
