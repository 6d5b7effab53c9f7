"""The last stage of a run: sinks take the finished run, the same way on every path.

:func:`default_sinks` is the one list: the ledger, target checks (announced as Prefect
events), the run's artifacts and OpenTelemetry spans. A sink added there applies to single
runs, batch documents, planner-driven runs and replays alike.

A sink's ``write`` sees each finished run; its ``close`` ends the session (one run, or a
whole batch). A sink that raises fails the run with :class:`SinkFailed` naming its stage
(a run not recorded is not resumable); the observing sinks (artifacts, spans, events)
catch their own errors, and never break what they observe.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from eightflow.definition import WorkflowDefinition
from eightflow.errors import WorkflowError
from eightflow.runtime.records import WorkflowResult
from eightflow.runtime.run_state import RunState

if TYPE_CHECKING:
    from eightflow.review.batch import BatchReview

log = logging.getLogger("eightflow.pipeline")


@dataclass(frozen=True)
class BatchScope:
    """Runs that are documents of one batch: its flow run and where its results go."""

    batch_id: str | None
    out_dir: str | None


@dataclass
class FinishedRun:
    """One run as the sinks see it."""

    workflow: Any  # the workflow object (artifacts read its planner's registry)
    definition: WorkflowDefinition  # the steps that ran, and their review rules
    run: RunState
    inputs: dict[str, Any]
    result: WorkflowResult
    batch: BatchScope | None = None
    fatal: WorkflowError | None = None  # what ended the steps, if anything did
    review: BatchReview | None = None  # a batch document's deferred reviews, if any fired


class Sink(Protocol):
    #: What the sink does, for a failure's reason ("recording in the ledger").
    stage: str

    async def write(self, finished: FinishedRun) -> None: ...

    async def close(self, batch: BatchScope | None) -> None: ...


class SinkFailed(Exception):
    """A sink that must not fail did; ``stage`` says which, ``cause`` what it raised."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        super().__init__(f"{stage}: {type(cause).__name__}: {cause}")
        self.stage = stage
        self.cause = cause


class LedgerSink:
    """Appends the run to the ledger (off the event loop: several inserts)."""

    stage = "recording in the ledger"

    async def write(self, finished: FinishedRun) -> None:
        from eightflow.store.ledger import default_ledger
        from eightflow.store.recorded_inputs import recorded_inputs

        run, inputs = finished.run, finished.inputs
        info = inputs.get("document_info") or {}
        replayable = {k: v for k, v in inputs.items() if k != "document_info"}
        await asyncio.wrap_future(
            default_ledger().submit_run(
                finished.result,
                batch_id=finished.batch.batch_id if finished.batch else None,
                document_id=run.document_id,
                document_sha256=info.get("sha256"),
                inputs=recorded_inputs(replayable, info),  # an excerpt + sha256 by default
                model=run.model,
                cache_hits=run.cache_hits,
            )
        )

    async def close(self, batch: BatchScope | None) -> None:
        return None


class TargetSink:
    """Judges recent runs against the definition's targets; breaches become events.

    After each run, or, in a batch, once when the batch ends (a ledger query per document
    would cost more than the documents): the breaches are then in ``breaches``.
    """

    stage = "checking targets"

    def __init__(self, definition: WorkflowDefinition) -> None:
        self.definition = definition
        self.breaches: list[dict[str, Any]] = []

    async def write(self, finished: FinishedRun) -> None:
        if finished.batch is None:
            finished.result.target_breaches = await self.judge(finished.result.run_id)

    async def close(self, batch: BatchScope | None) -> None:
        if batch is not None:
            self.breaches = await self.judge(batch.batch_id or "batch")

    async def judge(self, run_id: str) -> list[dict[str, Any]]:
        targets = self.definition.targets
        if not targets.any:
            return []
        from eightflow.observe.targets import announce, check_targets
        from eightflow.store.ledger import default_ledger

        name = self.definition.name

        def judge() -> list[dict[str, Any]]:
            ledger = default_ledger()
            checks = check_targets(ledger, name, targets)
            announce(name, run_id, checks, ledger)
            return [c.model_dump() for c in checks if c.breached]

        return await asyncio.to_thread(judge)


class ArtifactSink:
    """The run's report and trace (and a planner's rounds) as Prefect artifacts.

    Not per batch document: a batch publishes its own summary and results artifacts.
    """

    stage = "publishing artifacts"

    async def write(self, finished: FinishedRun) -> None:
        if finished.batch is not None:
            return
        from eightflow.compiler.artifacts import publish_run

        result = finished.result
        extra = None
        if result.planning is not None:
            from eightflow.observe.planning import planning_report

            extra = {"planning": planning_report(finished.workflow, result)}
        await publish_run(finished.definition, result, extra=extra)

    async def close(self, batch: BatchScope | None) -> None:
        return None


class OtelSink:
    """One root span per run, a child per step, a grandchild per model call (when on)."""

    stage = "exporting spans"

    async def write(self, finished: FinishedRun) -> None:
        from eightflow.observe.otel import export_run

        try:
            export_run(finished.result)  # a settings lookup when off
        except Exception as exc:  # observation must not break the run it observes
            log.warning("could not export spans of run %s: %s", finished.result.run_id, exc)

    async def close(self, batch: BatchScope | None) -> None:
        return None


def default_sinks(definition: WorkflowDefinition) -> list[Sink]:
    """The ledger, targets, artifacts and spans, in that order (targets read the ledger)."""
    return [LedgerSink(), TargetSink(definition), ArtifactSink(), OtelSink()]
