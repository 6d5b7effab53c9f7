"""``--mode batch-api``: a batch's model calls go out in waves through a provider Batch API.

Every document runs its steps exactly as in online mode (same executor, same records,
same outputs). The difference is one hook in the gateway: each model call is handed to
the :class:`WaveRouter`, which holds it until every document in flight is waiting on
a call (or finished). Those calls are one *wave*: they go into batch files (one model per
file, split within the provider's line and byte limits), and the callers resume when the
batch returns. With the seed's DAG that makes summarization, sentiment and entities the
first wave and topic extraction the second; local steps (compilation) run in between.

- The response cache is consulted before a call reaches the router: only misses go out.
- Each batch is written to the ledger (id, input file, wave, ``custom_id`` -> document and
  step) as soon as the provider accepts it. A request whose ``custom_id`` is already in a
  live batch (a run killed while waiting) is attached to that batch, never resubmitted.
- The budget is reserved at the batch rate, line by line, before a wave is submitted.
- Lines that fail or expire are sent online by the same call path, where the step's
  retry policy and the budget bound them; the step's trace notes say which.
- Waiting longer than ``max_wait_s`` ends the run: the documents still waiting fail with
  :class:`BatchStillRunning`, their batches stay open in the ledger, and the next run (the
  nightly schedule, or a re-run) collects them without resubmitting.
"""

from __future__ import annotations

import asyncio
from typing import Any

from eightflow.batch.models import BatchSummary, DocumentOutcome
from eightflow.batch.runner import BatchRunner
from eightflow.batch.waves import BatchStillRunning, ProgressHook, WaveRouter, cost_comparison

__all__ = ["BatchApiRunner", "BatchStillRunning", "WaveRouter", "refusal"]

MAX_DOCUMENTS_IN_FLIGHT = 5000  # one wave holds at most this many documents' calls


def refusal(model: str | None) -> str | None:
    """Why ``model`` (default: EIGHTFLOW_MODEL) cannot run in batch-api mode; None if it can."""
    from eightflow.gateway.batches import BatchNotSupported, check_batch_support
    from eightflow.settings import get_settings

    try:
        check_batch_support(model or get_settings().model)
    except BatchNotSupported as exc:
        return str(exc)
    return None


class BatchApiRunner(BatchRunner):
    """A :class:`BatchRunner` whose model calls go through a provider's Batch API."""

    progress: ProgressHook | None = None  # called with every batch's state as it changes

    def documents_in_flight(self) -> int:
        expected = self.summary.expected or MAX_DOCUMENTS_IN_FLIGHT
        return max(1, min(MAX_DOCUMENTS_IN_FLIGHT, expected))

    def _worker_pool(self) -> None:
        """One process: the wave router gathers every document's calls into its batches."""
        self.workers = 1

    async def run(self) -> BatchSummary:
        from eightflow.gateway.batches import active_router, check_batch_support

        check_batch_support(self.model)
        simulated = self.model.startswith("local/")
        self.router = WaveRouter(
            self.budget,
            workflow=self.summary.workflow,
            run_key=self.batch_id,
            poll_s=0.02 if simulated else None,
            max_wait_s=self.options.batch_max_wait_s,
            refresh=self.options.refresh,
            progress=self.progress,
        )
        self.sinks.insert(0, _CostComparisonSink(self))  # report.md is written on close
        token = active_router.set(self.router)
        serving = asyncio.create_task(self.router.serve())
        try:
            return await super().run()
        finally:
            self.router.close()
            await serving
            active_router.reset(token)

    def cost_comparison(self) -> dict[str, Any]:
        """This run's batch lines: cost at the batch rate and what online would have cost."""
        return cost_comparison(self.router)


class _CostComparisonSink:
    """Puts the batch cost comparison on the summary before the other sinks close."""

    def __init__(self, runner: BatchApiRunner) -> None:
        self.runner = runner

    def write(self, outcome: DocumentOutcome) -> None:
        return None

    def close(self, summary: BatchSummary) -> None:
        summary.batch_api = self.runner.cost_comparison()
