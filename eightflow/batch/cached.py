"""A document's identity for the outcome cache, and what a document served from it is.

- A document is known by its file's sha256. Only what a loader could accept is hashed (a
  10 GB file is rejected by size, unread), and a few kilobytes are hashed in the event
  loop: handing them to a thread and back cost more than reading them, and a re-run served
  from cache does little else.
- A cached outcome is this run's row for the file (its id and path), with nothing spent
  this time and no faults of its own; it is still a run in the ledger, at cost 0, whose
  steps and calls are marked as cache hits.
"""

from __future__ import annotations

import asyncio
import hashlib
import stat
import uuid
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
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
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
    """The ledger's run for a document served whole from cache (cost 0, every call a hit)."""
    now = datetime.now(UTC)
    steps = []
    for step in outcome.steps:
        calls = [_copy_with(c, cache_hit=True, cost_usd=0.0) for c in step.calls]
        steps.append(_copy_with(step, calls=calls, cost_usd=0.0))
    return WorkflowResult(
        run_id=uuid.uuid4().hex[:16],
        workflow=workflow,
        version=version,
        status="completed",
        steps=steps,
        cost_usd=0.0,
        tokens=TokenUsage(input=outcome.tokens_in, output=outcome.tokens_out),
        model_calls=0,
        started=now,
        finished=now,
        duration_ms=0.0,
    )


def _copy_with(record: Any, **changes: Any) -> Any:
    """``record.model_copy(update=changes)``: a shallow copy with fields set, and
    ~4x faster (measured: 21 against 5 us for a model call; a cached document copies
    each of its steps and calls)."""
    copied = record.model_copy()
    for name, value in changes.items():
        setattr(copied, name, value)
    return copied
