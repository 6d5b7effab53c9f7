"""``review-queue``: a batch's pending reviews, decided in the UI by whoever holds the form.

A batch that ends with pending reviews starts one run of this flow (deployment
``review-queue/queue``, see ``eightflow.review.queue``). The run shows a typed form of a
page of items and suspends: it holds no process and no worker until the form is
submitted. The submission reschedules the run, which then starts again from the top: its
``suspend_flow_run`` call returns the submitted answer instead of suspending, the
decisions are applied as ``eightflow review decide`` applies them, and what is still
pending goes to a new queue run.
"""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.flow_runs import suspend_flow_run
from prefect.logging import get_run_logger

from eightflow.compiler.flows import flow
from eightflow.registry import load_workflow
from eightflow.review.queue import (
    ELSEWHERE,
    apply_decisions,
    decisions_from_form,
    queue_form,
    rules_for,
)
from eightflow.review.queue_runs import pending_page, queue_rows, start_queue_run
from eightflow.review.render import pending_table

__all__ = ["review_queue"]

QUEUE_KEY = "review-queue-form"  # one form per run: its answer survives the re-run


@flow(name="review-queue", log_prints=True)
def review_queue(batch_id: str, review_ids: list[str]) -> dict[str, Any]:
    """Show the batch's pending reviews in one form, wait suspended, apply the decisions.

    Args:
        batch_id: the batch flow run whose reviews these are.
        review_ids: the reviews this form holds (one page).
    """
    log = get_run_logger()
    rows = queue_rows(review_ids)
    waiting = [r for r in rows if r["status"] == "pending"]
    if not waiting:
        log.info("nothing left to decide: all %d reviews were decided elsewhere", len(rows))
        return {"decided": [], "next_queue_run": _next_run(batch_id)}
    rules = rules_for(rows, load_workflow)
    form = queue_form(rows, rules)
    if not _resumed():
        log.info(
            "%d reviews wait for a person: submit this run's form to decide them", len(waiting)
        )
    answer = suspend_flow_run(wait_for_input=form, key=QUEUE_KEY)  # returns after a resume
    reviewer = str(answer.model_dump().get("reviewer") or "")
    outcomes = apply_decisions(
        decisions_from_form(answer, rows, rules), reviewer=reviewer, loader=load_workflow
    )
    for outcome in outcomes:
        if outcome["status"] == "refused":
            log.warning("review %s not decided: %s", outcome["review_id"], outcome["error"])
        elif outcome["status"] == ELSEWHERE:
            log.info("review %s skipped: already %s", outcome["review_id"], outcome["by"])
        else:
            log.info("review %s: %s", outcome["review_id"], outcome["status"])
    next_run = _next_run(batch_id)
    left = pending_page(batch_id, size=10_000)
    create_markdown_artifact(
        key="batch-documents-reviews",
        markdown=f"# {len(left)} documents need review\n\n" + pending_table(left),
        description="pending reviews",
    )
    return {"decided": outcomes, "next_queue_run": next_run}


def _resumed() -> bool:
    """Whether this run already suspended once (this is its run after the form)."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    keys = ctx.flow_run.empirical_policy.pause_keys if ctx and ctx.flow_run else None
    return QUEUE_KEY in (keys or set())


def _next_run(batch_id: str) -> str | None:
    """A new suspended queue run for what is still pending (None when nothing is)."""
    return start_queue_run(batch_id)
