"""The final pass: documents that failed only for transient reasons, run again.

A batch holds such documents back from its sinks (429s, 5xx bursts, timeouts, dropped
connections, answers outside the schema) and, once every other document is done, runs them
again with longer backoff until ``final_pass_s`` has passed. Steps that completed before are
served from the response cache, so only what failed is asked again. Each round waits
(2 s, doubling to 30 s, and at least any Retry-After the provider sent), then retries every
pending document together; a document still failing at the deadline gets its row, saying so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eightflow.batch.models import DocumentOutcome
from eightflow.batch.recovery import merge_attempts

FINAL_PASS_FIRST_DELAY_S = 2.0
FINAL_PASS_MAX_DELAY_S = 30.0


async def final_pass(
    runner: Any,
    deferred: list[tuple[Path, DocumentOutcome]],
    emit: Callable[[DocumentOutcome], None],
) -> None:
    """Run ``deferred`` again through ``runner.safe_process`` until the deadline; every
    document ends in ``emit``, recovered or with its last error."""
    if not deferred:
        return
    deadline = time.monotonic() + runner.options.final_pass_s
    delay = FINAL_PASS_FIRST_DELAY_S
    pending = deferred
    while pending and not runner.budget.exhausted:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        asked = max((_retry_after(outcome) for _, outcome in pending), default=0.0)
        await asyncio.sleep(min(max(delay, asked), remaining))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        jobs = [asyncio.ensure_future(runner.safe_process(path)) for path, _ in pending]
        _done, late = await asyncio.wait(jobs, timeout=remaining)
        for job in late:
            job.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        still: list[tuple[Path, DocumentOutcome]] = []
        for (path, earlier), job in zip(pending, jobs, strict=True):
            if job in late or job.cancelled() or job.exception() is not None:
                still.append((path, earlier))
                continue
            merged = merge_attempts(earlier, job.result())
            if merged.transient and merged.status == "failed":
                still.append((path, merged))
            else:
                emit(merged)
        pending = still
        delay = min(delay * 2, FINAL_PASS_MAX_DELAY_S)
    for _path, outcome in pending:
        outcome.final_pass = True
        outcome.error = (
            f"{outcome.error} (still failing when the final pass ended after "
            f"{runner.options.final_pass_s:g} s)"
        )
        emit(outcome)


def _retry_after(outcome: DocumentOutcome) -> float:
    """The longest Retry-After a provider sent during this document's attempts."""
    waits = [float(step.notes.get("retry_after_s") or 0.0) for step in outcome.steps]
    return max(waits, default=0.0)
