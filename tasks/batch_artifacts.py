"""A batch's Prefect artifacts: its progress while it runs, then its summary and results.

The files in ``--out`` are written by :mod:`publishing`; the artifacts here show the same
report (:func:`~eightflow_app.tasks.publishing.batch_report`) and rows in the UI, split so
no request nears Prefect Cloud's 5 MiB limit (:mod:`results_artifact`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from eightflow_app.tasks.publishing import batch_report
from eightflow_app.tasks.results_table import ResultsTable

from eightflow.batch.models import BatchSummary, DocumentOutcome


class ProgressArtifact:
    """A Prefect progress artifact, updated at most every ``every_s`` seconds.

    Sinks are called from the flow's event loop, so updates are scheduled as tasks there
    rather than awaited; ``flush`` waits for the last one.
    """

    def __init__(self, artifact_id: Any, expected: int, every_s: float = 2.0) -> None:
        self.artifact_id = artifact_id
        self.expected = max(expected, 1)
        self.every_s = every_s
        self.done = 0
        self._last = 0.0
        self._pending: set[asyncio.Task[Any]] = set()

    @classmethod
    async def create(cls, expected: int, key: str = "batch-documents-progress") -> ProgressArtifact:
        from prefect.artifacts import acreate_progress_artifact
        from prefect.context import FlowRunContext

        artifact_id = None
        if FlowRunContext.get() is not None:
            artifact_id = await acreate_progress_artifact(
                progress=0.0, key=key, description=f"documents done of {expected}"
            )
        return cls(artifact_id, expected)

    def write(self, outcome: DocumentOutcome) -> None:
        self.done += 1
        now = time.monotonic()
        if self.artifact_id is not None and now - self._last >= self.every_s:
            self._last = now
            self._schedule()

    def _schedule(self) -> None:
        from prefect.artifacts import aupdate_progress_artifact

        progress = min(100.0, 100.0 * self.done / self.expected)
        task = asyncio.get_running_loop().create_task(
            aupdate_progress_artifact(artifact_id=self.artifact_id, progress=progress)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def close(self, summary: BatchSummary) -> None:
        if self.artifact_id is not None:
            self.done = self.expected
            self._schedule()

    async def flush(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


async def publish_batch_artifacts(
    summary: BatchSummary,
    rows: ResultsTable | None,
    key_prefix: str = "batch-documents",
    max_bytes: int = 1 << 20,
) -> list[str]:
    """A markdown summary and the results table, split so no request nears 5 MiB.

    Prefect Cloud rejects request bodies over 5 MiB; a 10,000-row table easily is. Returns
    the keys written.
    """
    from eightflow_app.tasks.results_artifact import (
        artifact_link,
        compact_rows,
        json_parts,
        publish_compact,
        publish_table,
    )
    from prefect.artifacts import acreate_markdown_artifact
    from prefect.context import FlowRunContext

    if FlowRunContext.get() is None:
        return []
    records = [dict(row) for row in rows.rows] if rows is not None else []
    for record in records:
        for column in ("summary", "error"):
            if isinstance(record.get(column), str):
                record[column] = record[column][:300]
    # The full rows first (sent together: the server stores one while the next is on its
    # way), then the compact table and the summary, which link to them.
    full = await asyncio.gather(
        *(
            publish_table(f"{key_prefix}-results-full", index, part, "all columns")
            for index, part in enumerate(json_parts(records, max_bytes), start=1)
        )
    )
    link = artifact_link(full[0][1])
    where = f"[full table]({link})" if link else f"the full table: artifact `{full[0][0]}`"
    compact = compact_rows(rows.columns if rows is not None else [], records)
    summary_key = f"{key_prefix}-summary"
    summary_md = acreate_markdown_artifact(
        key=summary_key,
        markdown=batch_report(summary) + f"\nAll columns: {where}; also in results.parquet.\n",
        description="batch summary",
    )
    tables = [  # markdown: its cells wrap in the UI's pane (a table artifact's scroll)
        publish_compact(f"{key_prefix}-results", index, part, f"one line per document; {where}")
        for index, part in enumerate(json_parts(compact, max_bytes), start=1)
    ]
    written = await asyncio.gather(summary_md, *tables)
    return [summary_key, *(key for key, _ in written[1:]), *(key for key, _ in full)]
