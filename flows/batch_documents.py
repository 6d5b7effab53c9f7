"""``batch-documents``: run a workflow over every document in a folder.

Thin: it resolves the folder, streams paths from ``eightflow_app.tasks.loading``, and hands them to
the engine's ``BatchRunner``; results go to files (``eightflow_app.tasks.publishing``) and
artifacts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any, Literal

from eightflow_app.tasks.batch_log import BatchLog, batch_logger
from eightflow_app.tasks.loading import iter_document_paths
from eightflow_app.tasks.loading.sandbox import sandboxed_load_document
from eightflow_app.tasks.out_lock import OutDirLock
from eightflow_app.tasks.publishing import ProgressArtifact, ResultsWriter, publish_batch_artifacts
from prefect import flow
from prefect.context import FlowRunContext
from prefect.states import Failed
from pydantic import AfterValidator, Field, field_validator

from eightflow.batch import BatchOptions, BatchRunner
from eightflow.path_roots import check_output_dir, check_readable
from eightflow.registry import load_workflow
from eightflow.run_form import AllowedModel, OutputFolder, ReadablePath


class BatchParams(BatchOptions):
    """A batch's options as one object, for code (the CLI, tests, benchmarks). The
    deployment's Run form is the flow's flat parameters below."""

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

    def flow_parameters(self) -> dict[str, Any]:
        """The flat parameters of the ``batch-documents`` flow (no base URL: that is the
        operator's EIGHTFLOW_API_BASE)."""
        return self.model_dump(exclude={"api_base"})


def _registered(value: str) -> str:
    return BatchParams._registered(value)


def _runner_class(mode: str) -> Any:
    """The online runner, or the one that sends calls through the provider's Batch API."""
    if mode == "batch-api":
        from eightflow.batch.batch_api import BatchApiRunner

        return BatchApiRunner
    return BatchRunner


@flow(name="batch-documents", log_prints=True)
async def batch_documents(
    folder: ReadablePath = "examples/documents",
    out: OutputFolder = "out",
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    max_cost_usd: Annotated[float | None, Field(ge=0)] = None,
    concurrency: Annotated[int, Field(ge=1, le=256)] = 8,
    workflow: Annotated[str, AfterValidator(_registered)] = "document_analysis",
    model: AllowedModel = None,
    recursive: bool = True,
    refresh: bool = False,
    granularity: Literal["document", "step"] = "document",
    rpm: Annotated[float | None, Field(gt=0)] = None,
    workers: Annotated[int | None, Field(ge=0, le=64)] = None,
    shard_index: Annotated[int, Field(ge=0)] = 0,
    shard_count: Annotated[int, Field(ge=1)] = 1,
    mode: Literal["online", "batch-api"] = "online",
    batch_max_wait_s: Annotated[float, Field(gt=0)] = 3600,
    review_below: Annotated[float | None, Field(ge=0, le=1)] = None,
    final_pass_s: Annotated[float, Field(ge=0)] = 600.0,
    allow_unpriced: bool = False,
) -> Any:
    """Analyse a folder; returns counts, cost and where the results are.

    Args:
        folder: Folder of documents to analyse, inside the data roots (EIGHTFLOW_DATA_ROOTS).
        out: Where results.csv, results.parquet, trace.jsonl and report.md go, inside the
            output root (EIGHTFLOW_OUT_ROOT); never in prompts/ or EIGHTFLOW_HOME.
        include: Glob patterns to include (e.g. *.pdf); empty includes every file.
        exclude: Glob patterns to exclude (e.g. drafts/**).
        max_cost_usd: Stop starting model calls past this spend in USD; empty: no cap.
        concurrency: Model calls in flight across the batch (1 to 256).
        workflow: Registered workflow to run on each document.
        model: A model from the operator's list (EIGHTFLOW_ALLOWED_MODELS); empty uses
            EIGHTFLOW_MODEL or the embedded offline model.
        recursive: Descend into sub-folders.
        refresh: Ignore cached results and answers.
        granularity: 'document': one Prefect task per document (fast at scale); 'step':
            one per step per document (most detail in the UI).
        rpm: Requests per minute cap across the batch; empty: none.
        workers: Processes running documents inside this flow run; empty or 0: one per
            core for a large, wide batch (else one); 1: always one.
        shard_index: This run's shard (batch-sharded sets it).
        shard_count: How many shards the folder is split into.
        mode: 'online': one request per call; 'batch-api': calls go out in waves through
            the provider's Batch API (about half the price, answers within 24 h).
        batch_max_wait_s: batch-api: stop waiting after this long; open batches stay in the
            ledger and the next run collects them without resubmitting.
        review_below: With a value (0 to 1), outputs whose confidence is below it wait for
            a person's review (the workflow's review rules).
        final_pass_s: After the main pass, retry documents that failed only for transient
            reasons (429, 5xx, timeouts) with longer backoff, for at most this many seconds.
        allow_unpriced: Run with a cost cap even when the model's price is unknown (the
            cap then cannot hold).
    """
    params = BatchParams(
        folder=folder,
        out=out,
        include=include or [],
        exclude=exclude or [],
        max_cost_usd=max_cost_usd,
        concurrency=concurrency,
        workflow=workflow,
        model=model,
        recursive=recursive,
        refresh=refresh,
        granularity=granularity,
        rpm=rpm,
        workers=workers,
        shard_index=shard_index,
        shard_count=shard_count,
        mode=mode,
        batch_max_wait_s=batch_max_wait_s,
        review_below=review_below,
        final_pass_s=final_pass_s,
        allow_unpriced=allow_unpriced,
    )
    return await _run_batch(params)


async def _run_batch(params: BatchParams) -> Any:
    root = check_readable(Path(params.folder).expanduser())  # the default is checked too
    workflow = load_workflow(params.workflow)(
        model=params.model, api_base=params.api_base, review_below=params.review_below
    )

    def paths() -> Any:
        return iter_document_paths(
            root, params.include or None, params.exclude or None, params.recursive
        )

    expected = sum(1 for _ in paths())
    out = check_output_dir(params.out)
    # Waiting for another batch's lock on the folder must not block this event loop.
    writer = ResultsWriter(out, lock=await asyncio.to_thread(OutDirLock(out).acquire))
    progress = await ProgressArtifact.create(expected)
    log = BatchLog(batch_logger(), expected)  # start, every 10%, end: to the UI at INFO
    log.start(params.workflow, str(root), str(out))
    runner = _runner_class(params.mode)(
        workflow,
        BatchOptions.model_validate(params.model_dump(include=set(BatchOptions.model_fields))),
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
    if summary.needs_review:
        from eightflow.review.batch import publish_pending_reviews

        await publish_pending_reviews(runner.batch_id)
    brief = {**summary.brief(), "out": str(out), "target_breaches": runner.target_breaches}
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
