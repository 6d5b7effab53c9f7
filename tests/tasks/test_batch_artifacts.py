"""A batch's Prefect artifacts: size-capped result tables, and none outside a flow run."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from eightflow_app.tasks.batch_artifacts import publish_batch_artifacts
from eightflow_app.tasks.results_table import ResultsTable

from eightflow.batch import BatchSummary


def _big_table(rows: int, cell: int) -> ResultsTable:
    return ResultsTable(
        {
            "id": f"doc-{i:05d}.txt",
            "status": "completed",
            "error": None,
            "summary": "s" * 1000,  # cut to 300 characters in the artifact
            "entities": f"{i:05d}" + "e" * cell,
        }
        for i in range(rows)
    )


async def _read_table(key: str, flow_run_id: UUID) -> list[dict[str, Any]]:
    """The table a given flow run published under ``key`` (other runs reuse the keys)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    only = ArtifactFilter(
        key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
    )
    async with get_client() as client:
        found = await client.read_artifacts(artifact_filter=only)
    assert len(found) == 1, f"{len(found)} artifacts {key} in flow run {flow_run_id}"
    data = found[0].data
    if found[0].type == "markdown":  # the compact results: a markdown table
        return _markdown_rows(str(data))
    return json.loads(data) if isinstance(data, str) else data


def _markdown_rows(markdown: str) -> list[dict[str, Any]]:
    """The rows of the one markdown table in ``markdown`` (cells split on unescaped pipes)."""
    import re

    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    if not lines:
        return []

    def cells(line: str) -> list[str]:
        return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]

    head = cells(lines[0])
    return [dict(zip(head, cells(line), strict=True)) for line in lines[2:]]


@pytest.mark.prefect
async def test_publish_batch_artifacts_splits_a_large_table() -> None:
    from prefect import flow

    table = _big_table(rows=1500, cell=2000)  # ~3.4 MiB of JSON
    max_bytes = 1 << 20
    summary = BatchSummary(workflow="document_analysis", version="v1", total=1500, completed=1500)

    @flow(name="publish-artifacts-test")
    async def publish() -> list[str]:
        return await publish_batch_artifacts(summary, table, key_prefix="batch-documents")

    state = await publish(return_state=True)
    keys, run_id = await state.result(), state.state_details.flow_run_id
    assert keys[:2] == ["batch-documents-summary", "batch-documents-results"]  # compact
    parts = keys[2:]
    assert len(parts) == 4
    assert parts == ["batch-documents-results-full"] + [
        f"batch-documents-results-full-{i}" for i in range(2, len(parts) + 1)
    ]
    compact = await _read_table("batch-documents-results", run_id)
    assert [r["id"] for r in compact] == [row["id"] for row in table.rows]
    assert all(len(r["entities"]) <= 40 for r in compact)  # the summary column is "s" * 1000

    read: list[dict[str, Any]] = []
    for key in parts:
        part = await _read_table(key, run_id)
        assert sum(len(json.dumps(record)) for record in part) <= max_bytes
        assert len(json.dumps(part)) < max_bytes + 4 * len(part)  # separators only
        read.extend(part)
    assert [r["id"] for r in read] == [row["id"] for row in table.rows]
    assert all(len(r["summary"]) == 300 and r["entities"][:5] == r["id"][4:9] for r in read)


async def test_publish_batch_artifacts_outside_a_flow_does_nothing() -> None:
    summary = BatchSummary(workflow="w", version="v")
    assert await publish_batch_artifacts(summary, _big_table(3, 10)) == []


@pytest.mark.prefect
async def test_publish_batch_artifacts_with_no_rows_writes_an_empty_table() -> None:
    from prefect import flow

    @flow(name="publish-empty-test")
    async def publish() -> list[str]:
        return await publish_batch_artifacts(
            BatchSummary(workflow="w", version="v"), None, key_prefix="empty-batch"
        )

    state = await publish(return_state=True)
    keys = ["empty-batch-summary", "empty-batch-results", "empty-batch-results-full"]
    assert await state.result() == keys
    assert await _read_table("empty-batch-results", state.state_details.flow_run_id) == []
