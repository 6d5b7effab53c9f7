"""A batch's own log lines in the UI: its start, its progress every 10%, its end.

The CLI runs batches with ``PREFECT_LOGGING_LEVEL=WARNING`` (an INFO line per task run
would drown its progress bar), which also kept every line from the UI's Logs tab. This
logger sits under ``prefect.flow_runs`` at INFO with the run logger's API handlers only:
its lines reach the UI, never the terminal, whatever the level. A handful per batch, none
per document (a batch's CPU is measured: :meth:`BatchLog.write` only counts).
"""

from __future__ import annotations

import logging
from typing import Any

from eightflow.batch.models import BatchSummary, DocumentOutcome
from eightflow.observe.report import fmt_cost

LOGGER = "prefect.flow_runs.batch"
EVERY_PERCENT = 10


def batch_logger() -> logging.LoggerAdapter[Any] | None:
    """The flow run's logger for batch lines, at INFO, to the API only; None outside a run."""
    from prefect.context import FlowRunContext
    from prefect.logging import get_run_logger
    from prefect.logging.loggers import PrefectLogAdapter

    if FlowRunContext.get() is None:
        return None
    run_logger = get_run_logger()
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # not to the console: the CLI shows its own progress
    logger.handlers = list(logging.getLogger("prefect.flow_runs").handlers)
    extra = getattr(run_logger, "extra", None) or {}  # the flow run's id and names
    return PrefectLogAdapter(logger, extra=dict(extra))


class BatchLog:
    """A batch sink: a line when it starts, every :data:`EVERY_PERCENT` % and at its end."""

    def __init__(self, logger: logging.LoggerAdapter[Any] | None, expected: int) -> None:
        self.logger = logger
        self.expected = max(expected, 1)
        self.done = 0
        self._step = max(1, -(-self.expected * EVERY_PERCENT // 100))  # documents per line
        self._next = self._step

    def start(self, workflow: str, folder: str, out: str) -> None:
        if self.logger is not None:
            self.logger.info(
                "batch started: %s over %d documents in %s; results to %s",
                workflow,
                self.expected,
                folder,
                out,
            )

    def write(self, outcome: DocumentOutcome) -> None:
        self.done += 1
        if self.logger is None or self.done < self._next:
            return
        while self._next <= self.done:
            self._next += self._step
        self.logger.info(
            "%d of %d documents done (%d%%)",
            self.done,
            self.expected,
            min(100, 100 * self.done // self.expected),
        )

    def close(self, summary: BatchSummary) -> None:
        if self.logger is None:
            return
        waiting = f", {len(summary.needs_review)} awaiting review" if summary.needs_review else ""
        ungrounded = f", {len(summary.ungrounded)} ungrounded" if summary.ungrounded else ""
        self.logger.info(
            "batch ended: %s; completed %d, failed %d%s%s, unprocessed %d; %s, %.1f s",
            summary.headline(),
            summary.completed,
            summary.failed,
            waiting,
            ungrounded,
            len(summary.unprocessed),
            fmt_cost(None if summary.unpriced else summary.cost_usd),
            summary.duration_s,
        )
