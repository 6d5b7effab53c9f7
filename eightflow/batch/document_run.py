"""One document of a batch: its outcome served from cache, or the document loaded and run
through the run pipeline; either way its outcome is the document's results row.

- Nothing starts once the budget is spent or ``on_budget`` stopped the batch: the document
  is listed as unprocessed.
- A stored outcome (under its sha256, the workflow's version and a model of any lane the
  batch had) is served whole, and still recorded in the ledger as a run costing nothing.
- A file the loader refuses is a failed row naming why (``input_error``); a completed
  outcome is stored before it counts as done: one that cannot be stored is a failed row,
  since it could not be resumed.

``runner`` is the :class:`eightflow.batch.runner.BatchRunner` (not imported: it imports
this module).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from pydantic_core import PydanticSerializationError

from eightflow.batch.cached import cached_run, document_sha256, outcome_from_cache
from eightflow.batch.models import DocumentOutcome
from eightflow.batch.on_budget import Lane
from eightflow.batch.recovery import contained, is_transient
from eightflow.documents import Document
from eightflow.errors import DocumentError
from eightflow.pipeline.run import normalise_inputs
from eightflow.pipeline.sinks import SinkFailed


async def process_document(runner: Any, path: Path) -> DocumentOutcome:
    """The document at ``path`` in the lane ``on_budget`` gives it, or unprocessed."""
    doc_id = runner._doc_id(path)
    lane = await runner.on_budget.next_lane()  # None: on_budget stopped the batch
    if runner.budget.exhausted or lane is None:
        why = "budget exhausted" if lane else f"on_budget stopped ({runner.on_budget.stopped})"
        return DocumentOutcome(
            id=doc_id,
            path=str(path),
            status="unprocessed",
            error=f"{why} before this document started",
        )
    async with runner.on_budget.entered(lane):
        return await _cached_or_run(runner, path, doc_id, lane)


async def _cached_or_run(runner: Any, path: Path, doc_id: str, lane: Lane) -> DocumentOutcome:
    sha = await document_sha256(path)
    if sha and not runner.options.refresh:
        cached = None
        for model in runner.on_budget.models:  # a model of an earlier lane counts too
            try:
                cached = runner.cache.get_outcome_json(runner.outcome_key(sha, model))
            except Exception:
                cached = None  # an unreadable cache costs a recomputation
            if cached is not None:
                break
        if cached is not None:
            outcome = outcome_from_cache(cached, doc_id, path)
            await record_cached(runner, outcome)
            return outcome
    t0 = time.perf_counter()
    try:
        document = await asyncio.to_thread(runner.loader, path, runner.root)
    except DocumentError as exc:
        return DocumentOutcome(
            id=doc_id,
            path=str(path),
            sha256=sha,
            status="failed",
            error=exc.message,
            error_type="DocumentError",
            input_error=True,
            duration_ms=(time.perf_counter() - t0) * 1000,
        )
    except Exception as exc:  # a loader's own failure on this file: its row says why
        outcome = contained(doc_id, path, exc, "loading", input_error=True)
        outcome.sha256 = sha
        return outcome
    outcome = await run_document(runner, document, t0, lane)
    if outcome.status == "completed" and document.sha256:
        try:
            await runner.cache.aput_outcome(
                runner.outcome_key(document.sha256, lane.model), _stored(outcome)
            )
        except Exception as exc:
            # Not stored means not resumable: say so rather than pretend it is done.
            return contained(document.id, path, exc, "storing the outcome in the cache")
    return outcome


def _stored(outcome: DocumentOutcome) -> dict[str, Any] | str:
    """The outcome as the cache stores it: pydantic's JSON (about 50 µs, against 120 for
    ``model_dump`` then ``json.dumps``), or the dict where pydantic cannot write it (a file
    name that is not UTF-8)."""
    try:
        return outcome.model_dump_json()
    except PydanticSerializationError:
        return outcome.model_dump(mode="json")


async def run_document(runner: Any, document: Document, t0: float, lane: Lane) -> DocumentOutcome:
    """One document through the run pipeline; its outcome is the results row."""
    wf = runner.workflow
    values, label = normalise_inputs({**wf.inputs, "document": document})
    model = lane.model if lane.model != runner.model else runner.options.model
    run = wf.new_run(model, label, budget=runner.budget, limiter=runner.limiter)
    run.api_base = runner.options.api_base or wf.api_base
    run.cache = wf.cache
    try:
        finished = await runner.pipeline.run(run, values)
    except SinkFailed as exc:
        return contained(document.id, Path(document.path), exc.cause, exc.stage)
    result, review = finished.result, finished.review
    row = wf.result_row(result) if result.ok or review is not None else {}
    if review is not None:
        for output, value in review.final.items():
            row.update(wf.review_columns(output, value))
        row.update(review.fields)
    status: Any = "completed" if result.ok else "failed"
    if review is not None:
        status = review.status
    if result.status == "budget_exceeded":
        status = "budget_exceeded"
    meta = {k: getattr(document, k) for k in ("sha256", "title", "loader", "pages", "chars")}
    return DocumentOutcome(
        id=document.id,
        path=document.path,
        status=status,
        error=result.error,
        error_type=result.error_type,
        row=row,
        steps=result.steps,
        tokens_in=result.tokens.input,
        tokens_out=result.tokens.output,
        cost_usd=result.cost_usd,
        duration_ms=(time.perf_counter() - t0) * 1000,
        attempts=sum(s.attempts for s in result.steps),
        model_calls=run.model_calls,
        run_id=result.run_id,
        task_run_id=next((s.task_run_id for s in result.steps if s.task_run_id), None),
        transient=status == "failed" and is_transient(finished.fatal),
        faults_outlasted=failed_attempts_of(result.steps) if status == "completed" else 0,
        grounded=result.grounded,
        model=lane.model,
        mode=lane.mode,
        **meta,
    )


async def record_cached(runner: Any, outcome: DocumentOutcome) -> None:
    """A document served whole from cache is still a run in the ledger (cost 0)."""
    result = cached_run(outcome, runner.summary.workflow, runner.summary.version)
    await runner.cached_runs.record(
        result,
        batch_id=runner.batch_id,
        document_id=outcome.id,
        document_sha256=outcome.sha256,
        model=runner.model,
        cache_hits=sum(len(s.calls) for s in result.steps),
        served_from_cache=True,
    )


def failed_attempts_of(steps: Any) -> int:
    return sum(max(step.attempts - 1, 0) for step in steps)
