"""Performance targets: checked after each run; a breach is a Prefect event we can read."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

from eightflow import (
    Context,
    PerformanceTargets,
    Step,
    StepResult,
    Workflow,
    WorkflowDefinition,
)
from eightflow.observe.targets import BREACH_EVENT, check_targets
from eightflow.store.ledger import default_ledger

pytestmark = pytest.mark.prefect


class Slow(Workflow):
    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(
            name="slow_targets",
            steps=[Step(name="nap", handler=self.nap)],
            targets=PerformanceTargets(p95_step_latency_ms=50, success_rate=0.9, window=10),
        )

    async def nap(self, context: Context) -> StepResult:
        await asyncio.sleep(0.15)
        return StepResult(done=True)


async def test_breach_is_reported_recorded_and_emitted(home: Path) -> None:
    result = await Slow().execute()
    breaches = {b["target"]: b for b in result.target_breaches}
    assert set(breaches) == {"p95_step_latency_ms:nap"}  # success rate 100% holds
    assert breaches["p95_step_latency_ms:nap"]["observed"] >= 150

    rows = default_ledger().query("SELECT target, breached FROM target_checks")
    assert {(r["target"], r["breached"]) for r in rows} == {
        ("success_rate", 0),
        ("p95_step_latency_ms:nap", 1),
    }

    event_filter = EventFilter(
        event=EventNameFilter(name=[BREACH_EVENT]),
        resource=EventResourceFilter(id=["eightflow.workflow.slow_targets"]),
    )
    found = []
    async with get_client() as client:
        for _ in range(40):  # events are sent by a background worker
            page = await client.read_events(filter=event_filter, limit=50)
            found = [e for e in page.events if e.payload.get("run_id") == result.run_id]
            if found:
                break
            await asyncio.sleep(0.25)
    assert found, "breach event not found through the Prefect API"
    assert found[0].payload["observed"] >= 150 and found[0].payload["limit"] == 50


def test_no_targets_no_checks(home: Path) -> None:
    assert check_targets(default_ledger(), "nothing_ran", PerformanceTargets(success_rate=1)) == []
