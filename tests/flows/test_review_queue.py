"""``review-queue``: what is still pending after a form goes to a new suspended queue run,
and a form answered after the shell decided some of its items decides those not twice.

The suspension itself needs a deployment and a worker: ``tests/review/test_queue_e2e.py``.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import eightflow_app.flows.review_queue as review_queue
import pytest

import eightflow.review.queue_runs as queue_runs
from eightflow.review.decide import decide
from eightflow.review.queue_runs import QUEUE_DEPLOYMENT
from eightflow.review.requests import ReviewRequest
from eightflow.review.store import get_review, save_pending


def pending(n: int, batch_id: str = "batch-1") -> list[str]:
    ids = []
    for i in range(n):
        request = ReviewRequest(
            run_id=f"run-{i}", workflow="document_analysis", document_id=f"doc-{i}.md",
            step="sentiment", rule="sentiment_confidence", output="sentiment",
            proposed={"label": "neutral", "score": 0.0}, actions=["approve", "reject"],
            batch_id=batch_id,
        )  # fmt: skip
        save_pending(request)
        ids.append(request.review_id)
    return ids


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def run_deployment(name: str, **kw: Any) -> Any:
        calls.append({"name": name, **kw})
        return SimpleNamespace(id="next-run")

    monkeypatch.setattr(queue_runs, "_run_deployment", run_deployment)
    return calls


@pytest.mark.parametrize(("page_size", "decided", "held"), [(10, 1, 2), (1, 1, 1), (10, 3, 0)])
def test_what_is_left_goes_to_a_new_queue_run(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    started: list[dict[str, Any]],
    page_size: int,
    decided: int,
    held: int,
) -> None:
    monkeypatch.setenv("EIGHTFLOW_REVIEW_PAGE_SIZE", str(page_size))
    ids = pending(3)
    pending(2, batch_id="another-batch")
    for review_id in ids[:decided]:
        decide(review_id, "approve", via="ui")
    next_run = review_queue._next_run("batch-1")
    if not held:
        assert next_run is None and started == []
        return
    [call] = started
    assert next_run == "next-run" and call["name"] == QUEUE_DEPLOYMENT
    assert call["parameters"] == {"batch_id": "batch-1", "review_ids": ids[decided:][:held]}
    assert call["timeout"] == 0 and call["as_subflow"] is False  # a subflow cannot suspend


@pytest.mark.prefect
def test_a_resumed_queue_run_skips_items_decided_elsewhere(
    home: Path, monkeypatch: pytest.MonkeyPatch, started: list[dict[str, Any]]
) -> None:
    """The flow as it runs after its form was submitted (``suspend_flow_run`` returns the
    answer): the item the shell decided meanwhile is skipped, the others are decided."""
    ids = pending(3)
    decide(ids[1], "reject", reviewer="bob", via="cli")

    def submitted(wait_for_input: Any, key: str) -> Any:
        choices = {f"item_{n}_decision": "approve" for n in (1, 2, 3)}
        return wait_for_input(**choices, reviewer="ana")

    monkeypatch.setattr(review_queue, "suspend_flow_run", submitted)
    state = review_queue.review_queue(batch_id="batch-1", review_ids=ids, return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert [o["status"] for o in result["decided"]] == ["approved", "decided elsewhere",
                                                        "approved"]  # fmt: skip
    assert result["decided"][1]["by"] == "rejected by bob (cli)"
    assert [get_review(r)["reviewer"] for r in ids] == ["ana", "bob", "ana"]
    assert result["next_queue_run"] is None and started == []  # nothing left to hold
