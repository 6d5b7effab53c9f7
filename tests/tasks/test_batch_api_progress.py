"""The batch-api progress table, report lines, and the self-scheduled poll run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from eightflow_app.tasks.batch_api_progress import (
    batch_api_report_lines,
    progress_markdown,
    reschedule_if_waiting,
)

from eightflow.batch.models import BatchSummary


def row(batch_id: str, wave: int, state: str, done: int) -> dict[str, Any]:
    return {
        "batch_id": batch_id, "wave": wave, "model": "openai/gpt-4o-mini", "state": state,
        "total": 4, "completed": done, "failed": 0, "resumed": False,
    }  # fmt: skip


def test_progress_table_has_a_row_per_batch_in_wave_order() -> None:
    resumed = {**row("b1", 1, "completed", 4), "resumed": True, "submitted_by": "run-0"}
    text = progress_markdown([row("b2", 2, "in_progress", 1), resumed])
    lines = [x for x in text.splitlines() if x.startswith("| 1") or x.startswith("| 2")]
    assert lines[0].startswith("| 1 | `b1`") and "| completed | 4 | 0 | 4 |" in lines[0]
    assert "earlier run" in lines[0]
    assert (
        lines[1].startswith("| 2 | `b2`") and "| in_progress | 1 | 0 | 4 | this run |" in lines[1]
    )


@pytest.mark.parametrize(
    ("batch_cost", "expected"),
    [(0.5, "cost at the batch rate: $0.500000; the same calls online: $1.000000 (saved"),
     (None, "cost at the batch rate: unpriced; the same calls online: $1.000000")],
)  # fmt: skip
def test_report_lines_compare_with_online(batch_cost: float | None, expected: str) -> None:
    summary = BatchSummary(workflow="w", version="v")
    assert batch_api_report_lines(summary) == []
    summary.batch_api = {
        "waves": [{"wave": 1, "steps": ["a", "b"], "batches": ["x"]}],
        "cost_usd": batch_cost,
        "online_cost_usd": 1.0,
        "online_retries": 2,
    }
    text = "\n".join(batch_api_report_lines(summary))
    assert "wave 1: a, b (1 provider batch(es))" in text
    assert expected in text and "retried online after failing in a batch: 2" in text


@pytest.mark.prefect
async def test_a_waiting_deployment_run_schedules_its_next_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eightflow_app.flows.batch_documents import batch_documents
    from eightflow_app.tasks import batch_api_progress
    from prefect.client.orchestration import get_client

    parameters = {"folder": "examples/documents", "mode": "batch-api"}
    deployment = await batch_documents.ato_deployment(name="poll-test", parameters=parameters)
    deployment_id = await deployment.apply()
    summary = BatchSummary(workflow="w", version="v")
    summary.batch_api = {"waiting_batches": []}
    monkeypatch.setattr(
        batch_api_progress, "_deployment_of_this_run", lambda: (deployment_id, parameters)
    )
    assert await reschedule_if_waiting(summary, 600) is None  # nothing open: no new run

    summary.batch_api = {"waiting_batches": ["batch_1"]}
    before = datetime.now(UTC)
    flow_run_id = await reschedule_if_waiting(summary, 600)
    assert flow_run_id is not None
    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
    assert flow_run.deployment_id == deployment_id
    assert flow_run.state is not None and flow_run.state.is_scheduled()
    assert flow_run.parameters == parameters
    assert (flow_run.expected_start_time - before).total_seconds() >= 590


async def test_outside_a_deployment_nothing_is_scheduled() -> None:
    summary = BatchSummary(workflow="w", version="v")
    summary.batch_api = {"waiting_batches": ["batch_1"]}
    assert await reschedule_if_waiting(summary, 600) is None
