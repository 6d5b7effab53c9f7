"""The one run pipeline: driver -> result -> review rules -> sinks.

Every run goes through :class:`RunPipeline`: a single run (``Workflow.execute``, a
deployment's flow run), each document of a batch, a planner-driven run and a replay. The
workflow's driver runs the steps (a static graph, or a planner's rounds); the outcome
becomes a ``WorkflowResult``; the definition's review rules are applied (a single run
pauses for a person; a batch document is marked ``needs_review`` and the batch goes on),
and every model answer is checked against the run's document (grounding: deterministic, no
model call; an ungrounded answer asks for a person when review is on); then every sink
of :func:`eightflow.pipeline.sinks.default_sinks` takes the run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from eightflow.definition import WorkflowDefinition
from eightflow.documents import Document
from eightflow.pipeline.driver import Driven, Driver, Granularity, build_result
from eightflow.pipeline.sinks import (
    BatchScope,
    FinishedRun,
    Sink,
    SinkFailed,
    TargetSink,
    default_sinks,
)
from eightflow.review.grounding_rule import (
    INLINE_CHARS,
    RunGrounding,
    document_text,
    ground_run,
    grounding_requests,
)
from eightflow.runtime.records import WorkflowResult
from eightflow.runtime.run_state import RunState
from eightflow.server.ui_links import flow_run_url


class PipelineWorkflow(Protocol):
    """What the pipeline needs of a workflow: its definition, gateway and driver."""

    @property
    def definition(self) -> WorkflowDefinition: ...

    @property
    def model(self) -> Any: ...

    def driver(self, granularity: Granularity = "step") -> Driver: ...


class RunPipeline:
    """Runs of one workflow in one session: a single run, a replay, or a whole batch.

    ``batch`` makes the runs documents of a batch: reviews are deferred, not waited for,
    and the sinks that act once per batch (targets) act on :meth:`close`.
    """

    def __init__(
        self,
        workflow: PipelineWorkflow,
        *,
        batch: BatchScope | None = None,
        granularity: Granularity = "step",
        sinks: Sequence[Sink] | None = None,
    ) -> None:
        self.workflow = workflow
        self.batch = batch
        self.granularity = granularity
        self.sinks = list(sinks) if sinks is not None else default_sinks(workflow.definition)
        self._warm = False

    async def run(self, run: RunState, inputs: dict[str, Any]) -> FinishedRun:
        """One run in the current flow run: drive, build the result, review, sink.

        Raises :class:`SinkFailed` when a sink fails (the ledger, typically).
        """
        if not self._warm:
            # Import litellm (seconds) before the steps start, not inside the first of
            # them: it would block the event loop and make every concurrent step look slow.
            await asyncio.to_thread(lambda: self.workflow.model)
            self._warm = True
        held = await self.held(run)
        if held is not None:  # started again after suspending for review: nothing runs twice
            driven = Driven(self.workflow.definition, held.outputs, [], started=held.started)
            result = held
        else:
            driven = await self.workflow.driver(self.granularity).drive(run, inputs)
            result = build_result(run, driven)
        if self.batch is None:  # for the run's report; a batch document's row has its own
            result.inputs = input_preview(inputs)
        finished = FinishedRun(
            self.workflow,
            driven.definition,
            run,
            inputs,
            result,
            batch=self.batch,
            fatal=driven.fatal,
        )
        await self.review(finished)
        for sink in self.sinks:
            try:
                await sink.write(finished)
            except Exception as exc:
                raise SinkFailed(sink.stage, exc) from exc
        return finished

    async def review(self, finished: FinishedRun) -> None:
        """Check the answers against the document; apply the review rules of the steps
        that ran, and ask about ungrounded answers when review is on."""
        definition, result = finished.definition, finished.result
        found = await self.ground(finished)
        if not any(rule.enabled for rule in definition.review):
            return  # an ungrounded run stays marked (result.grounded) for its row and trace
        asked = grounding_requests(definition, result, found) if found else []
        if self.batch is None:
            from eightflow.review.flow import review_single_run

            result.ui_url = result.ui_url or flow_run_url(result.flow_run_id)
            finished.result = await review_single_run(
                definition, result, document_id=finished.run.document_id, extra=asked
            )
            return
        if not result.ok:
            return
        from eightflow.review.batch import defer_reviews

        batch = self.batch
        finished.review = await asyncio.to_thread(
            lambda: defer_reviews(
                definition,
                result,
                document_id=finished.run.document_id,
                batch_id=batch.batch_id,
                out_dir=batch.out_dir,
                extra=[request for _, request in asked],
            )
        )
        if finished.review is not None:  # the rest of the batch goes on whatever it says
            result.status = finished.review.status

    async def held(self, run: RunState) -> WorkflowResult | None:
        """A single run's result kept before it suspended for review, taken as this run's
        (same run id); None for a batch or a run that never suspended."""
        if self.batch is not None:
            return None
        from eightflow.review.held import held_result

        result = await held_result()
        if result is not None:
            _retype_reviewed(result, self.workflow.definition)
            run.run_id, run.cache_hits, run.model_calls = (
                result.run_id,
                result.cache_hits,
                result.model_calls,
            )
        return result

    @staticmethod
    async def ground(finished: FinishedRun) -> RunGrounding | None:
        """Grounding of a completed run that has a document; None otherwise."""
        text = document_text(finished.inputs)
        if text is None or not finished.result.ok:
            return None
        if len(text) <= INLINE_CHARS:
            return ground_run(finished.result, text)
        return await asyncio.to_thread(ground_run, finished.result, text)

    async def close(self) -> None:
        """End the session: the sinks that act once (a batch's target checks) act now."""
        for sink in self.sinks:
            await sink.close(self.batch)

    @property
    def target_breaches(self) -> list[dict[str, Any]]:
        """The breaches found when the session closed (a batch's)."""
        return [b for s in self.sinks if isinstance(s, TargetSink) for b in s.breaches]


def _retype_reviewed(result: WorkflowResult, definition: WorkflowDefinition) -> None:
    """A kept result's outputs come back as JSON data: the ones review rules judge are
    made their schema's objects again, as the steps returned them, so the rules (a
    criterion reading attributes) see on the restart what they saw before it."""
    for rule in definition.review:
        value = result.outputs.get(rule.output)
        if rule.output_schema is not None and isinstance(value, dict):
            # Sanitized into something its schema refuses: judged as data, as it is.
            with contextlib.suppress(ValidationError):
                result.outputs[rule.output] = rule.output_schema.model_validate(value)


def normalise_inputs(inputs: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Documents become their text plus ``document_info``; the label names the run."""
    values = dict(inputs)
    label = values.pop("label", None)
    doc = values.get("document")
    if isinstance(doc, Document):
        values["document"] = doc.text
        values["document_info"] = doc.model_dump(exclude={"text"})
        label = label or doc.id
    return values, label


def input_preview(inputs: dict[str, Any]) -> dict[str, str]:
    from eightflow.safety.excerpts import excerpt

    return {k: excerpt(v, limit=200) for k, v in inputs.items() if k != "document_info"}


def flow_return(result: WorkflowResult) -> Any:
    """What a workflow's flow run returns: a summary, or a Failed state naming the cause."""
    if result.status == "needs_review":  # waiting for people: says so, neither success nor failure
        from prefect.states import Completed

        return Completed(name="NeedsReview", message=f"needs_review: {result.error or ''}")
    if not result.ok:
        from prefect.states import Failed

        return Failed(message=f"{result.status}: {result.error or ''}".strip())
    return {"run_id": result.run_id, "status": result.status, "cost_usd": result.cost_usd}


def crashed_result(
    run: RunState, why: str = "the flow run crashed before a result"
) -> WorkflowResult:
    """A failed result for a run that produced none (its flow run crashed)."""
    now = datetime.now(UTC)
    return WorkflowResult(
        run_id=run.run_id,
        workflow=run.workflow,
        version=run.version,
        status="failed",
        started=now,
        finished=now,
        duration_ms=0.0,
        error=why,
        steps=list(run.records.values()),
    )
