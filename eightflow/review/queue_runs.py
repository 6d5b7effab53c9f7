"""A batch's ``review-queue`` runs in Prefect: which one holds what, and ending stale ones.

A queue run holds one page of a batch's pending reviews (its ``review_ids`` parameter)
and waits suspended for its form. Every decision goes through
:func:`eightflow.review.decide.decide`, wherever it is made (``eightflow review decide``,
another queue run's form), and ends with :func:`end_decided_queue_runs`: a suspended queue
run whose whole page is now decided has nothing left to ask, so it is set Completed
(state "Decided elsewhere", its message says by whom and where) instead of waiting for
its timeout. If the batch still has pending reviews and no live queue run is left to
hold them, a new one is started for the next page, as a submitted form would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eightflow.errors import WorkflowError
from eightflow.review.store import get_review, list_reviews
from eightflow.safety.sanitize import sanitize_text
from eightflow.settings import get_settings
from eightflow.store.ledger import Ledger

QUEUE_FLOW = "review-queue"
QUEUE_DEPLOYMENT = f"{QUEUE_FLOW}/queue"
DECIDED_ELSEWHERE = "Decided elsewhere"  # the state name of a queue run ended here
_LIVE = ("SCHEDULED", "PENDING", "RUNNING", "PAUSED")


def pending_page(
    batch_id: str, size: int | None = None, ledger: Ledger | None = None
) -> list[dict[str, Any]]:
    """The batch's oldest pending reviews, at most ``size`` (the page-size setting)."""
    size = size or get_settings().review_page_size
    return list_reviews("pending", ledger, batch_id=batch_id, limit=size)


def queue_rows(review_ids: Sequence[str], ledger: Ledger | None = None) -> list[dict[str, Any]]:
    """The reviews a queue run holds, whatever their status now (decided ones included)."""
    rows = []
    for review_id in review_ids:
        try:
            rows.append(get_review(review_id, ledger))
        except WorkflowError:
            continue  # gone from the ledger: nothing to show or decide
    return rows


def decided_by(row: dict[str, Any]) -> str:
    """``"approved by ana (cli)"``: who settled a review, and where."""
    return f"{row['status']} by {row.get('reviewer') or 'unknown'} ({row.get('decided_via')})"


def start_queue_run(batch_id: str) -> str | None:
    """A new suspended-to-be queue run for the batch's next page: the one way a queue run
    starts (a batch's end, a submitted form, ``decide``). None if nothing is pending or the
    deployment is not there (a batch outside ``eightflow stack``: the shell decides).
    Synchronous, whether or not an event loop runs in this thread."""
    from prefect.exceptions import ObjectNotFound

    page = pending_page(batch_id)
    if not page:
        return None
    try:
        run = _run_deployment(
            QUEUE_DEPLOYMENT,
            parameters={"batch_id": batch_id, "review_ids": [r["review_id"] for r in page]},
            timeout=0,
            as_subflow=False,  # a subflow cannot suspend
            tags=["eightflow", "review", batch_tag(batch_id)],
            _sync=True,
        )
    except ObjectNotFound:
        return None
    return str(run.id)


def _run_deployment(name: str, **kwargs: Any) -> Any:
    from prefect.deployments import run_deployment

    return run_deployment(name, **kwargs)


def batch_tag(batch_id: str) -> str:
    """The tag that finds a batch's queue runs (a filter, not a scan of every batch's)."""
    return f"review-batch-{batch_id}"


def end_decided_queue_runs(batch_id: str | None, ledger: Ledger | None = None) -> dict[str, Any]:
    """End the batch's suspended queue runs whose every review is decided, and start one
    for what is still pending if no live queue run holds it. Returns ``{"ended": [ids],
    "started": id or None}``; nothing at all without a Prefect API."""
    from prefect.settings import get_current_settings

    done: dict[str, Any] = {"ended": [], "started": None}
    if batch_id is None or not get_current_settings().api.url:
        return done
    live = []
    for run in _live_queue_runs(batch_id):
        if (run.parameters or {}).get("batch_id") != batch_id:
            continue
        rows = queue_rows(list((run.parameters or {}).get("review_ids") or []), ledger)
        suspended = run.state is not None and run.state.name == "Suspended"
        if suspended and all(r["status"] != "pending" for r in rows) and _end(run.id, rows):
            done["ended"].append(str(run.id))
        else:
            live.append(run)
    if done["ended"] and not live:
        done["started"] = start_queue_run(batch_id)
    return done


def _live_queue_runs(batch_id: str) -> list[Any]:
    """The batch's queue runs not yet final: by its tag, every page of them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType

    states = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType(s) for s in _LIVE]))
    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[QUEUE_FLOW])),
                flow_run_filter=FlowRunFilter(
                    state=states, tags=FlowRunFilterTags(all_=[batch_tag(batch_id)])
                ),
                limit=200,
                offset=len(runs),
            )
            runs.extend(page)
            if len(page) < 200:
                return runs


def _end(flow_run_id: Any, rows: list[dict[str, Any]]) -> bool:
    """Set a suspended queue run Completed ("Decided elsewhere"); False if Prefect refused
    (it was resumed meanwhile, say: then it ends by itself, deciding nothing twice)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.responses import SetStateStatus
    from prefect.states import Completed

    who = "; ".join(f"{r.get('document_id') or r['run_id']} {decided_by(r)}" for r in rows)
    message = sanitize_text(
        f"every review of this page was decided elsewhere, nothing left to ask: {who}",
        limit=1000,
    )
    with get_client(sync_client=True) as client:
        result: Any = client.set_flow_run_state(
            flow_run_id, Completed(name=DECIDED_ELSEWHERE, message=message)
        )
    return bool(result.status == SetStateStatus.ACCEPT)
