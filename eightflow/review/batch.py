"""Reviews in a batch: the document ends ``needs_review`` and the batch goes on."""

from __future__ import annotations

from typing import Any

from eightflow.definition import WorkflowDefinition
from eightflow.review.requests import ReviewRequest, review_requests
from eightflow.review.store import list_reviews, save_pending
from eightflow.runtime.records import WorkflowResult


def defer_reviews(
    definition: WorkflowDefinition,
    result: WorkflowResult,
    *,
    document_id: str | None,
    batch_id: str | None,
    out_dir: str | None,
) -> list[ReviewRequest]:
    """Store a pending review per rule that fires; returns them (empty: none needed).

    A document re-run while its review is still pending (same workflow version, rule and
    output folder) keeps that review rather than opening a second one.
    """
    requests = review_requests(definition, result)
    if not requests:
        return []
    pending = {
        (r["document_id"], r["rule"], r["version"], r["out_dir"]): r["review_id"]
        for r in list_reviews("pending")
    }
    for request in requests:
        request.document_id = document_id
        request.batch_id = batch_id
        request.out_dir = out_dir
        request.link = _link(request) or _flow_link(batch_id)
        existing = pending.get((document_id, request.rule, request.version, out_dir))
        if existing:
            request.review_id = existing
        save_pending(request)
    return requests


def review_fields(requests: list[ReviewRequest]) -> dict[str, Any]:
    """The results-row columns of a document waiting for review."""
    return {
        "review_id": ",".join(r.review_id for r in requests),
        "review_status": "pending",
        "review_reason": "; ".join(r.reason for r in requests),
    }


def _link(request: ReviewRequest) -> str | None:
    if not request.task_run_id:
        return None
    from prefect.settings import get_current_settings

    ui = get_current_settings().ui_url
    return f"{str(ui).rstrip('/')}/v2/runs/task-run/{request.task_run_id}" if ui else None


def _flow_link(flow_run_id: str | None) -> str | None:
    from eightflow.workflow import flow_run_url

    return flow_run_url(flow_run_id)


async def publish_pending_reviews(batch_id: str | None) -> str | None:
    """A ``batch-documents-reviews`` artifact: each pending review with its link."""
    from prefect.artifacts import acreate_markdown_artifact
    from prefect.context import FlowRunContext

    from eightflow.review.render import pending_table

    if FlowRunContext.get() is None or batch_id is None:
        return None
    rows = [r for r in list_reviews("pending") if r["batch_id"] == batch_id]
    markdown = (
        f"# {len(rows)} documents need review\n\n"
        "Decide with `eightflow review decide ID --approve | --reject --note TEXT | "
        "--edit FIELD=VALUE`.\n\n" + pending_table(rows)
    )
    await acreate_markdown_artifact(
        key="batch-documents-reviews", markdown=markdown, description="pending reviews"
    )
    return "batch-documents-reviews"
