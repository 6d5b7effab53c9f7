"""Reviews in a batch: the document ends ``needs_review`` and the batch goes on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from eightflow.definition import WorkflowDefinition
from eightflow.review.requests import ReviewRequest, review_requests
from eightflow.review.store import decode_row, list_reviews, save_pending
from eightflow.runtime.records import WorkflowResult
from eightflow.store.ledger import default_ledger


class BatchReview(BaseModel):
    """What review makes of one batch document: its status, extra columns, final outputs."""

    status: Literal["needs_review", "completed", "rejected", "failed"]
    fields: dict[str, Any] = Field(default_factory=dict)
    final: dict[str, Any] = Field(default_factory=dict)  # output -> value after decisions


def defer_reviews(
    definition: WorkflowDefinition,
    result: WorkflowResult,
    *,
    document_id: str | None,
    batch_id: str | None,
    out_dir: str | None,
    extra: Sequence[ReviewRequest] = (),
) -> BatchReview | None:
    """Store a pending review per rule that fires; None when no rule fires.

    Re-running a document keeps what people already said: an output a person decided on
    before (same document, rule, workflow version and proposed output) takes that decision
    again instead of asking twice, and a review still pending is reused, not duplicated.
    ``extra``: requests made outside the definition's rules (an ungrounded answer).
    """
    requests = [*review_requests(definition, result), *extra]
    if not requests:
        return None
    earlier = _earlier(document_id)
    pending, decided = [], []
    for request in requests:
        request.document_id = document_id
        request.batch_id = batch_id
        request.out_dir = out_dir
        request.link = _link(request) or _flow_link(batch_id)
        same = earlier.get((request.rule, request.version, _key(request.proposed)))
        if same is not None and same["status"] != "pending":
            decided.append(same)
            continue
        if same is not None and same["out_dir"] == out_dir:
            request.review_id = same["review_id"]
        save_pending(request)
        pending.append(request)
    fields = {
        "review_id": ",".join([r.review_id for r in pending] + [d["review_id"] for d in decided]),
        "review_status": ",".join(["pending"] * len(pending) + [d["status"] for d in decided]),
        "review_reason": "; ".join(r.reason for r in pending)
        or "; ".join("; ".join(d.get("reasons") or []) for d in decided),
    }
    final = {d["output"]: d["final"] for d in decided if d["decision"] == "edit"}
    decisions = {d["decision"] for d in decided}
    status: Any = "needs_review" if pending else "completed"
    if "fail" in decisions:
        status = "failed"
    elif "reject" in decisions:
        status = "rejected"
    return BatchReview(status=status, fields=fields, final=final)


def _earlier(document_id: str | None) -> dict[tuple[str, str | None, str], dict[str, Any]]:
    """This document's reviews, the latest per (rule, version, proposed output)."""
    if document_id is None:
        return {}
    rows = default_ledger().query(
        "SELECT * FROM reviews WHERE document_id = ? ORDER BY created", (document_id,)
    )
    found: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for row in map(decode_row, rows):
        found[(row["rule"], row["version"], _key(row["proposed"]))] = row
    return found


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _link(request: ReviewRequest) -> str | None:
    from eightflow.server.ui_links import task_run_url

    return task_run_url(request.task_run_id)


def _flow_link(flow_run_id: str | None) -> str | None:
    from eightflow.server.ui_links import flow_run_url

    return flow_run_url(flow_run_id)


async def publish_pending_reviews(batch_id: str | None, queue_run: str | None = None) -> str | None:
    """A ``batch-documents-reviews`` artifact: each pending review with its link, and the
    review-queue run whose form decides them (``queue_run``, when one was started)."""
    from prefect.artifacts import acreate_markdown_artifact
    from prefect.context import FlowRunContext

    from eightflow.review.render import pending_table
    from eightflow.review.requests import run_page

    if FlowRunContext.get() is None or batch_id is None:
        return None
    rows = await asyncio.to_thread(list_reviews, "pending", batch_id=batch_id)
    page = run_page(queue_run)  # the run's page: its Resume opens the form
    where = (
        f"Decide them in the [review queue]({page}) (press *Resume*)"
        if page
        else "Decide them in the form of this batch's `review-queue` run"
    )
    markdown = (
        f"# {len(rows)} documents need review\n\n{where}, or with `eightflow review decide "
        "ID --approve | --reject --note TEXT | --edit FIELD=VALUE`.\n\n" + pending_table(rows)
    )
    await acreate_markdown_artifact(
        key="batch-documents-reviews", markdown=markdown, description="pending reviews"
    )
    return "batch-documents-reviews"
