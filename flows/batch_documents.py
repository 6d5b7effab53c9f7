"""``batch-documents``: run a workflow over every document in a folder.

Thin: it resolves the folder, streams paths from ``tasks.loading``, and hands them to the
engine's ``BatchRunner``; results go to files (``tasks.publishing``) and artifacts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.context import FlowRunContext
from prefect.states import Failed
from pydantic import Field, field_validator

from eightflow.batch import BatchOptions, BatchRunner
from eightflow.registry import load_workflow
from tasks.loading import iter_document_paths
from tasks.loading.sandbox import sandboxed_load_document
from tasks.out_lock import OutDirLock
from tasks.publishing import ProgressArtifact, ResultsWriter, publish_batch_artifacts


class BatchParams(BatchOptions):
    """The run form of the batch flow (every field has a description and a default)."""

    folder: str = Field(default="examples/documents", description="Folder of documents to analyse.")
    workflow: str = Field(
        default="document_analysis", description="Registered workflow to run on each document."
    )
    out: str = Field(
        default="out",
        description="Where results.csv, results.parquet, trace.jsonl and report.md go.",
    )
    include: list[str] = Field(
        default_factory=list, description="Glob patterns to include (e.g. *.pdf)."
    )
    exclude: list[str] = Field(default_factory=list, description="Glob patterns to exclude.")
    recursive: bool = Field(default=True, description="Descend into sub-folders.")

    @field_validator("workflow")
    @classmethod
    def _registered(cls, value: str) -> str:
        from eightflow.registry import workflow_names

        names = workflow_names()
        if value not in names:
            raise ValueError(f"unknown workflow '{value}'; registered: {', '.join(names)}")
        return value


def _runner_class(mode: str) -> Any:
    """The online runner, or the one that sends calls through the provider's Batch API."""
    if mode == "batch-api":
        from eightflow.batch.batch_api import BatchApiRunner

        return BatchApiRunner
    return BatchRunner


@flow(name="batch-documents", log_prints=True)
async def batch_documents(params: BatchParams) -> Any:
    """Analyse a folder; returns counts, cost and where the results are."""
    root = Path(params.folder).expanduser().resolve()
    workflow = load_workflow(params.workflow)(
        model=params.model, api_base=params.api_base, review_below=params.review_below
    )

    def paths() -> Any:
        return iter_document_paths(
            root, params.include or None, params.exclude or None, params.recursive
        )

    expected = sum(1 for _ in paths())
    out = Path(params.out).expanduser().resolve()
    # Waiting for another batch's lock on the folder must not block this event loop.
    writer = ResultsWriter(out, lock=await asyncio.to_thread(OutDirLock(out).acquire))
    progress = await ProgressArtifact.create(expected)
    runner = _runner_class(params.mode)(
        workflow,
        BatchOptions.model_validate(params.model_dump(include=set(BatchOptions.model_fields))),
        paths(),
        root,
        loader=sandboxed_load_document,  # by reference: worker processes import it
        sinks=[writer, progress],
    )
    runner.summary.expected = expected
    if params.mode == "batch-api":
        from tasks.batch_api_progress import BatchApiProgress

        runner.progress = BatchApiProgress()
    ctx = FlowRunContext.get()
    runner.batch_id = str(ctx.flow_run.id) if ctx and ctx.flow_run else None
    runner.out_dir = str(out)
    try:
        summary = await runner.run()
    except BaseException:
        writer.release()
        raise
    await progress.flush()
    summary.flow_run_id = runner.batch_id
    await publish_batch_artifacts(summary, writer.rows)
    if summary.needs_review:
        from eightflow.review.batch import publish_pending_reviews

        await publish_pending_reviews(runner.batch_id)
    breaches = await workflow.check_targets(runner.batch_id or "batch")
    brief = {**summary.brief(), "out": str(out), "target_breaches": breaches}
    if params.mode == "batch-api":
        from tasks.batch_api_progress import reschedule_if_waiting

        brief["next_poll_flow_run"] = await reschedule_if_waiting(
            summary, delay_s=params.batch_max_wait_s
        )
    if not brief["success"]:
        return Failed(message="; ".join(brief["reasons"]), data=brief)
    return brief
