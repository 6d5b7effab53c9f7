"""Stale queue runs: a suspended ``review-queue`` run whose page was decided elsewhere ends.

Against the session's Prefect test server: a real ``review-queue/queue`` deployment (no
worker), queue runs suspended on it as a batch leaves them, and decisions made through
the one door (:func:`eightflow.review.decide.decide` from the shell, or another queue
run's form through :func:`apply_decisions`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.states import Running, Suspended

from eightflow.review.decide import decide
from eightflow.review.queue import QueueDecision, apply_decisions
from eightflow.review.queue_runs import (
    DECIDED_ELSEWHERE,
    QUEUE_FLOW,
    batch_tag,
    end_decided_queue_runs,
)
from eightflow.review.requests import ReviewRequest
from eightflow.review.store import get_review, save_pending

pytestmark = pytest.mark.prefect


def pending(n: int, batch_id: str) -> list[str]:
    ids = []
    for i in range(n):
        request = ReviewRequest(
            run_id=f"{batch_id}-run-{i}", workflow="document_analysis",
            document_id=f"doc-{i}.md", step="sentiment", rule="sentiment_confidence",
            output="sentiment", proposed={"label": "neutral", "score": 0.0},
            actions=["approve", "reject"], batch_id=batch_id,
        )  # fmt: skip
        save_pending(request)
        ids.append(request.review_id)
    return ids


@pytest.fixture
def deployment() -> Iterator[UUID]:
    """``review-queue/queue`` in the test server, gone again afterwards with its runs (other
    tests count on there being no queue deployment)."""
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name(QUEUE_FLOW)
        deployment_id = client.create_deployment(flow_id=flow_id, name="queue")
    try:
        yield deployment_id
    finally:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
            for run in runs:
                client.delete_flow_run(run.id)
            client.delete_deployment(deployment_id)


def suspended_run(deployment_id: UUID, batch_id: str, review_ids: list[str]) -> UUID:
    """A queue run as the flow leaves it: started by its worker, then suspended."""
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(
            deployment_id,
            parameters={"batch_id": batch_id, "review_ids": review_ids},
            tags=["eightflow", "review", batch_tag(batch_id)],  # as start_queue_run tags it
        )
        client.set_flow_run_state(run.id, Running(), force=True)
        result: Any = client.set_flow_run_state(
            run.id, Suspended(timeout_seconds=3600, pause_key="review-queue-form")
        )
        assert result.status.value == "ACCEPT", result.details
    return run.id


def state_of(flow_run_id: UUID) -> Any:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id).state


def queue_runs_of(deployment_id: UUID, batch_id: str) -> list[Any]:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )
    return [r for r in runs if r.parameters["batch_id"] == batch_id]


def decide_as(via: str, review_ids: list[str]) -> None:
    """Approve the reviews from the shell, or from another queue run's form."""
    if via == "cli":
        for review_id in review_ids:
            decide(review_id, "approve", reviewer="ana", via="cli")
        return
    decisions = [QueueDecision(review_id=r, decision="approve") for r in review_ids]
    outcomes = apply_decisions(decisions, reviewer="ana")
    assert {o["status"] for o in outcomes} == {"approved"}


@pytest.mark.parametrize(
    ("via", "total", "decided", "ended", "next_holds"),
    [
        ("cli", 2, 1, False, None),  # one item still waits: the run keeps waiting
        ("cli", 2, 2, True, None),
        ("ui", 2, 2, True, None),  # decided in another queue run's form
        ("cli", 3, 2, True, [2]),  # the item past the page gets a queue run of its own
    ],
)
def test_a_queue_run_whose_page_was_decided_elsewhere_ends(
    home: Path,
    deployment: UUID,
    via: str,
    total: int,
    decided: int,
    ended: bool,
    next_holds: list[int] | None,
) -> None:
    ids = pending(total, "batch-s")
    other = pending(1, "batch-other")
    run = suspended_run(deployment, "batch-s", ids[:2])
    untouched = suspended_run(deployment, "batch-other", other)
    decide_as(via, ids[:decided])
    state = state_of(run)
    if not ended:
        assert (state.type.value, state.name) == ("PAUSED", "Suspended")
        assert len(queue_runs_of(deployment, "batch-s")) == 1
        return
    assert (state.type.value, state.name) == ("COMPLETED", DECIDED_ELSEWHERE)
    for n in range(2):
        assert f"doc-{n}.md approved by ana ({via})" in state.message
    assert state_of(untouched).name == "Suspended"  # another batch's queue is not this one
    started = [r for r in queue_runs_of(deployment, "batch-s") if r.id != run]
    held = [r.parameters["review_ids"] for r in started]
    assert held == ([[ids[n] for n in next_holds]] if next_holds else [])


def test_without_an_api_or_a_batch_nothing_is_asked(home: Path, deployment: UUID) -> None:
    [review_id] = pending(1, "batch-n")
    run = suspended_run(deployment, "batch-n", [review_id])
    assert end_decided_queue_runs(None) == {"ended": [], "started": None}
    assert end_decided_queue_runs("batch-n") == {"ended": [], "started": None}  # still pending
    assert state_of(run).name == "Suspended"


def test_a_resumed_queue_skips_what_was_decided_elsewhere(home: Path) -> None:
    """A form answered after the shell decided one of its items: that item is skipped
    (who decided it, and where, is said), the others are decided, none twice."""
    ids = pending(3, "batch-r")
    decide(ids[0], "reject", reviewer="bob", via="cli")
    answer = [QueueDecision(review_id=r, decision="approve") for r in ids]
    outcomes = apply_decisions(answer, reviewer="ana")
    assert outcomes[0] == {
        "review_id": ids[0], "status": "decided elsewhere", "by": "rejected by bob (cli)",
    }  # fmt: skip
    assert [o["status"] for o in outcomes[1:]] == ["approved", "approved"]
    again = apply_decisions(answer, reviewer="carl")
    assert {o["status"] for o in again} == {"decided elsewhere"}
    assert [get_review(r)["reviewer"] for r in ids] == ["bob", "ana", "ana"]


def test_the_shell_says_which_queue_run_it_ended_and_started(home: Path, deployment: UUID) -> None:
    from typer.testing import CliRunner

    from eightflow.cli.main import app

    ids = pending(3, "batch-c")
    run = suspended_run(deployment, "batch-c", ids[:2])
    runner = CliRunner()
    first = runner.invoke(app, ["review", "decide", ids[0], "--approve", "--reviewer", "ana"])
    assert first.exit_code == 0, first.output
    assert "review queue run" not in first.output  # its page still has an item pending
    last = runner.invoke(app, ["review", "decide", ids[1], "--reject", "--reviewer", "ana"])
    assert last.exit_code == 0, last.output
    [started] = [r for r in queue_runs_of(deployment, "batch-c") if r.id != run]
    assert f"review queue run {run}: nothing left to decide, ended" in last.output
    assert f"review queue run {started.id}: holds the next pending reviews" in last.output
    assert "rejected by ana (cli)" in state_of(run).message
