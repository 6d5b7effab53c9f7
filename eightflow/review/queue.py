"""The batch review queue: one suspended flow run whose form decides a page of reviews.

When a batch ends with pending reviews it starts a run of the ``review-queue`` deployment
(:func:`start_review_queue`) for the first page of them (``EIGHTFLOW_REVIEW_PAGE_SIZE``).
That run builds a typed form (:func:`queue_form`) and suspends: no process and no worker
wait for the answer. Submitting the form reschedules the run; it starts again from the top,
takes the submitted answer, and applies each decision through
:func:`eightflow.review.decide.decide`, the door ``eightflow review decide`` uses (results
files, ledger, artifact, event). Items left on ``later``, and pending items past the page,
go to a new suspended queue run. An item someone decided meanwhile (the shell, another
form) is not decided twice: it is skipped as ``decided elsewhere``, and a queue run whose
whole page was decided elsewhere is ended (:mod:`eightflow.review.queue_runs`).

The form's items are fixed by the run's parameters (the review ids), so the form the run
builds again after its resumption is the one the reviewer filled in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from eightflow.definition.review import ReviewEditError, ReviewRule
from eightflow.errors import WorkflowError
from eightflow.review.decide import WorkflowLoader, decide, rule_of
from eightflow.review.queue_runs import (
    QUEUE_DEPLOYMENT,
    decided_by,
    start_queue_run,
)
from eightflow.review.render import queue_item_markdown, queue_markdown
from eightflow.review.requests import run_page
from eightflow.review.store import count_reviews, get_review
from eightflow.safety.form_types import form_type
from eightflow.store.ledger import Ledger

LATER = "later"  # leave the item pending: the next queue run holds it


def _editable(row: dict[str, Any], rule: ReviewRule | None) -> list[str]:
    if rule is None or rule.output_schema is None or "edit" not in row["actions"]:
        return []
    return [name for name in row["editable"] if name in rule.output_schema.model_fields]


def queue_form(rows: Sequence[dict[str, Any]], rules: dict[str, ReviewRule | None]) -> Any:
    """The RunInput form of one page: per item a decision, its editable fields (typed by
    the step's output schema, filled with the model's output) and a note; then the
    reviewer's name. Its description lists the items with their proposed outputs."""
    from prefect.input import RunInput

    fields: dict[str, Any] = {}
    for n, row in enumerate(rows, 1):
        what = f"{n}. {row.get('document_id') or row['run_id']}, {row['step']}"
        choices: Any = Literal[(LATER, *row["actions"])]
        fields[f"item_{n}_decision"] = (
            choices,
            Field(
                default=LATER,
                title=f"{what}: decision",
                description=queue_item_markdown(row),
            ),
        )
        rule = rules.get(row["rule"])
        proposed = row["proposed"] if isinstance(row["proposed"], dict) else {}
        for name in _editable(row, rule):
            assert rule is not None and rule.output_schema is not None
            info = rule.output_schema.model_fields[name]
            # No str/None toggles: an optional field shows its plain type, "none" as empty.
            annotation, empty = form_type(info.annotation)
            value = proposed.get(name)
            fields[f"item_{n}_{name}"] = (
                annotation,
                Field(
                    default=empty if value is None else value,
                    title=f"{n}. {name}",
                    description=info.description,
                ),
            )
        fields[f"item_{n}_note"] = (str, Field(default="", title=f"{n}. note"))
    fields["reviewer"] = (str, Field(default="", title="Your name"))
    form = create_model("ReviewQueue", __base__=RunInput, **fields)
    form._description = queue_markdown(list(rows))
    return form


class QueueDecision(BaseModel):
    """One item's answer in a submitted queue form."""

    review_id: str
    decision: str
    edits: dict[str, Any] = Field(default_factory=dict)
    note: str = ""


def decisions_from_form(
    answer: BaseModel, rows: Sequence[dict[str, Any]], rules: dict[str, ReviewRule | None]
) -> list[QueueDecision]:
    """The decided items of a submitted form (``later`` ones left out).

    A changed field makes an approve or an edit an edit; an edit that changed nothing is
    an approve; a reject carries no edits.
    """
    data = answer.model_dump()
    found = []
    for n, row in enumerate(rows, 1):
        decision = str(data.get(f"item_{n}_decision") or LATER)
        if decision == LATER:
            continue
        proposed = row["proposed"] if isinstance(row["proposed"], dict) else {}
        edits = {
            name: value
            for name, value in _answered_fields(data, n, row, rules.get(row["rule"])).items()
            if value != proposed.get(name)
        }
        if decision == "reject":
            edits = {}
        elif edits and "edit" in row["actions"]:
            decision = "edit"
        elif decision == "edit":
            decision = "approve"
        note = str(data.get(f"item_{n}_note") or "")
        found.append(
            QueueDecision(review_id=row["review_id"], decision=decision, edits=edits, note=note)
        )
    return found


def apply_decisions(
    decisions: Sequence[QueueDecision],
    *,
    reviewer: str,
    loader: WorkflowLoader | None = None,
    ledger: Ledger | None = None,
) -> list[dict[str, Any]]:
    """Decide each item as ``eightflow review decide`` would (via ``ui``).

    An item someone decided meanwhile (the shell, another queue run's form) is skipped,
    status ``decided elsewhere`` with who and where: nothing is decided twice, and the
    ledger's pending-only update settles a race. A refused edit is reported as it is."""
    outcomes = []
    for item in decisions:
        try:
            if (now := get_review(item.review_id, ledger))["status"] != "pending":
                outcomes.append(_elsewhere(now))
                continue
            row = decide(
                item.review_id,
                item.decision,
                edits=item.edits,
                note=item.note,
                reviewer=reviewer or "ui",
                via="ui",
                loader=loader,
                ledger=ledger,
            )
            outcomes.append({"review_id": item.review_id, "status": row.get("status", "resumed")})
        except (WorkflowError, ReviewEditError) as exc:
            latest = _current(item.review_id, ledger)
            if latest is not None and latest["status"] != "pending":
                outcomes.append(_elsewhere(latest))  # decided by someone between look and write
            else:
                outcomes.append(
                    {"review_id": item.review_id, "status": "refused", "error": str(exc)}
                )
    return outcomes


ELSEWHERE = "decided elsewhere"


def _elsewhere(row: dict[str, Any]) -> dict[str, Any]:
    return {"review_id": row["review_id"], "status": ELSEWHERE, "by": decided_by(row)}


def _current(review_id: str, ledger: Ledger | None) -> dict[str, Any] | None:
    try:
        return get_review(review_id, ledger)
    except WorkflowError:
        return None


def rules_for(rows: Sequence[dict[str, Any]], loader: WorkflowLoader | None) -> dict[str, Any]:
    """The rule each review was asked under (None when its workflow no longer has it)."""
    return {row["rule"]: rule_of(row, loader=loader) for row in rows}


async def start_review_queue(batch_id: str | None) -> str | None:
    """A ``review-queue`` run for the batch's first page of pending reviews; its id, or
    None when nothing is pending or the deployment is not there (a batch run outside
    ``eightflow stack``: the shell path still decides)."""
    if batch_id is None:
        return None
    waiting = await asyncio.to_thread(count_reviews, "pending", batch_id=batch_id)
    if not waiting:
        return None
    run_id = await asyncio.to_thread(start_queue_run, batch_id)
    if run_id is None:
        _log().info(
            "no %s deployment here (eightflow stack up deploys it): decide the %d pending "
            "reviews with `eightflow review decide`",
            QUEUE_DEPLOYMENT,
            waiting,
        )
        return None
    _log().info(
        "%d reviews wait in the review queue: %s (press Resume)",
        waiting,
        run_page(run_id) or run_id,
    )
    return run_id


def _log() -> Any:
    """The flow run's logger (its lines reach the UI), or a plain one outside a run."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_logger, get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return get_logger("eightflow.review")


def _answered_fields(
    data: dict[str, Any], n: int, row: dict[str, Any], rule: ReviewRule | None
) -> dict[str, Any]:
    """Item ``n``'s editable fields as submitted: where the proposed value was none, the
    form showed it as its empty value, which reads back as ``None`` (the form has no None)."""
    proposed = row["proposed"] if isinstance(row["proposed"], dict) else {}
    found = {}
    for name in _editable(row, rule):
        value = data.get(f"item_{n}_{name}")
        if proposed.get(name) is None and rule is not None and rule.output_schema is not None:
            empty = form_type(rule.output_schema.model_fields[name].annotation)[1]
            value = None if empty is not None and value == empty else value
        found[name] = value
    return found
