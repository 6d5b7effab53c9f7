"""A document's identity for the outcome cache, and what a document served from it is.

- A document is known by its file's sha256. Only what a loader could accept is hashed (a
  10 GB file is rejected by size, unread), and a few kilobytes are hashed in the event
  loop: handing them to a thread and back cost more than reading them, and a re-run served
  from cache does little else.
- A cached outcome is this run's row for the file (its id and path), with nothing spent
  this time and no faults of its own; it is still a run in the ledger, at cost 0, whose
  steps and calls are recorded as cache hits (``served_from_cache``).
"""

from __future__ import annotations

import asyncio
import hashlib
import stat
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eightflow.batch.models import DocumentOutcome
from eightflow.runtime.records import TokenUsage, WorkflowResult

MAX_HASH_BYTES = 50 * 1024 * 1024  # the loaders' default size limit
HASH_IN_LOOP_BYTES = 64 * 1024  # hashed without a thread hop: well under a millisecond


def file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        # Unbuffered: blocks of 1 MiB need no second buffer (and its set-up per file).
        with open(path, "rb", buffering=0) as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


async def document_sha256(path: Path) -> str | None:
    """The file's sha256, or None when it is not a regular file a loader would accept."""
    try:
        info = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_HASH_BYTES:
        return None
    if info.st_size <= HASH_IN_LOOP_BYTES:
        return file_sha256(path)
    return await asyncio.to_thread(file_sha256, path)


def outcome_from_cache(stored_json: str, doc_id: str, path: Path) -> DocumentOutcome:
    """The stored outcome as this run's: its name for the file, nothing spent, no faults."""
    outcome = DocumentOutcome.model_validate_json(stored_json)
    outcome.id, outcome.path = doc_id, str(path)
    # Nothing was spent this time: the stored tokens stay, the cost is this run's.
    outcome.cache_hit, outcome.model_calls, outcome.cost_usd = True, 0, 0.0
    # Faults and passes belong to the run that met them, not to this one.
    outcome.faults_outlasted, outcome.final_pass, outcome.transient = 0, False, False
    return outcome


def cached_run(outcome: DocumentOutcome, workflow: str, version: str) -> WorkflowResult:
    """The ledger's run for a document served whole from cache. Its steps are the stored
    ones, not copies: record it with ``served_from_cache=True`` (cost 0, every call a hit).
    """
    now = datetime.now(UTC)
    return WorkflowResult(
        run_id=uuid.uuid4().hex[:16],
        workflow=workflow,
        version=version,
        status="completed",
        steps=outcome.steps,
        cost_usd=0.0,
        tokens=TokenUsage(input=outcome.tokens_in, output=outcome.tokens_out),
        model_calls=0,
        started=now,
        finished=now,
        duration_ms=0.0,
    )


class LedgerGroup:
    """The ledger runs of documents served from cache, committed in groups.

    Such a document costs about 0.3 ms of its own. Handing its run to the ledger's writer
    thread alone, and waiting for the commit, cost more: with 32 documents in flight the
    ledger committed 32 runs at a time, and each commit rewrote the index pages of runs,
    steps and calls (1,000 documents took 0.37 s longer with the ledger than without).
    Here runs go to the writer :data:`GROUP` at a time, with at most :data:`IN_FLIGHT`
    groups not yet committed, and :meth:`close` commits the rest.

    A document's row does not wait for its run's commit: its outcome is in the cache
    whatever the ledger does, and the runner closes the group whatever ends its loop. A
    group that cannot be committed (a full disk, a ledger locked past its timeout) is
    counted, with the first error; the batch reports it and is not a success. With
    ``wait`` (worker processes, whose rows go to another process that cannot see their
    pending runs), each document waits until its run is committed.
    """

    GROUP = 256
    IN_FLIGHT = 2

    def __init__(self, ledger: Callable[[], Any], size: int = GROUP, wait: bool = False) -> None:
        self._open_ledger = ledger  # called once, when the first group goes
        self._ledger: Any = None
        self.size = size
        self.wait = wait
        self._runs: list[tuple[WorkflowResult, dict[str, Any]]] = []
        self._committing: list[tuple[asyncio.Future[None], int]] = []
        self._unrecorded = 0
        self._error: str | None = None

    async def record(self, result: WorkflowResult, **details: Any) -> None:
        self._runs.append((result, details))
        if self.wait:
            await self._submit(keep=0)
        elif len(self._runs) >= self.size:
            await self._submit(keep=self.IN_FLIGHT)

    async def close(self) -> tuple[int, str | None]:
        """Commit every run recorded so far. Returns how many runs could not be recorded
        since the last close, and the first error."""
        await self._submit(keep=0)
        unrecorded, error = self._unrecorded, self._error
        self._unrecorded, self._error = 0, None
        return unrecorded, error

    async def _submit(self, keep: int) -> None:
        if self._runs:
            runs, self._runs = self._runs, []
            try:
                if self._ledger is None:
                    self._ledger = self._open_ledger()
                committed = asyncio.wrap_future(self._ledger.submit_runs(runs))
            except Exception as exc:  # the ledger could not even be opened
                self._failed(len(runs), exc)
            else:
                self._committing.append((committed, len(runs)))
        while True:
            self._settle()
            if len(self._committing) <= keep:
                return
            # asyncio.wait, not await: a document cancelled while it waits here must not
            # cancel its group's commit.
            await asyncio.wait([self._committing[0][0]])

    def _settle(self) -> None:
        pending = []
        for committed, count in self._committing:
            if not committed.done():
                pending.append((committed, count))
            elif committed.cancelled():
                self._failed(count, asyncio.CancelledError("the commit was cancelled"))
            elif (exc := committed.exception()) is not None:
                self._failed(count, exc)
        self._committing = pending

    def _failed(self, count: int, exc: BaseException) -> None:
        from eightflow.safety.sanitize import sanitize_text

        self._unrecorded += count
        if self._error is None:
            self._error = sanitize_text(f"{type(exc).__name__}: {exc}", limit=200)
