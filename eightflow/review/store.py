"""Pending reviews and decisions in the ledger's ``reviews`` table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from eightflow.errors import WorkflowError
from eightflow.review.requests import ReviewRequest
from eightflow.safety.sanitize import sanitize, sanitize_text
from eightflow.store.ledger import Ledger, default_ledger

_COLUMNS = [
    *("review_id", "run_id", "batch_id", "flow_run_id", "task_run_id", "workflow", "version"),
    *("document_id", "step", "rule", "output", "prompt", "model", "proposed", "reasons"),
    *("actions", "editable", "on_timeout", "timeout_seconds", "out_dir", "link", "status"),
    "created",
]


def save_pending(request: ReviewRequest, ledger: Ledger | None = None) -> None:
    data = request.model_dump(mode="json")
    for key in ("proposed", "reasons", "actions", "editable"):
        data[key] = json.dumps(data[key])
    placeholders = ",".join("?" for _ in _COLUMNS)
    (ledger or default_ledger()).write(
        f"INSERT OR REPLACE INTO reviews ({','.join(_COLUMNS)}) VALUES ({placeholders})",
        tuple(data[c] for c in _COLUMNS),
    )


def _where(status: str | None, batch_id: str | None) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause (and its parameters) for reviews in ``status`` of ``batch_id``."""
    terms = [(column, value) for column, value in (("status", status), ("batch_id", batch_id))
             if value is not None]  # fmt: skip
    if not terms:
        return "", ()
    return " WHERE " + " AND ".join(f"{c} = ?" for c, _ in terms), tuple(v for _, v in terms)


def list_reviews(
    status: str | None = "pending",
    ledger: Ledger | None = None,
    *,
    batch_id: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Reviews oldest first; ``status`` None for every status; of one batch, at most
    ``limit``. Filtered by the ledger, not after reading every pending review."""
    where, params = _where(status, batch_id)
    sql = "SELECT * FROM reviews" + where + " ORDER BY created"
    if limit is not None:
        sql, params = sql + " LIMIT ?", (*params, max(0, int(limit)))
    rows = (ledger or default_ledger()).query(sql, params)
    return [decode_row(r) for r in rows]


def count_reviews(
    status: str | None = "pending", *, batch_id: str | None = None, ledger: Ledger | None = None
) -> int:
    """How many reviews :func:`list_reviews` would list (without reading them)."""
    where, params = _where(status, batch_id)
    rows = (ledger or default_ledger()).query("SELECT COUNT(*) AS n FROM reviews" + where, params)
    return int(rows[0]["n"]) if rows else 0


def get_review(review_id: str, ledger: Ledger | None = None) -> dict[str, Any]:
    """The review with this id (a unique prefix will do)."""
    rows = (ledger or default_ledger()).query(
        "SELECT * FROM reviews WHERE review_id = ? OR review_id LIKE ?",
        (review_id, f"{review_id}%"),
    )
    if len(rows) != 1:
        found = "no review" if not rows else f"{len(rows)} reviews"
        raise WorkflowError(f"{found} match '{review_id}'; see `eightflow review list`")
    return decode_row(rows[0])


def record_decision(
    review_id: str,
    *,
    decision: str,
    reviewer: str,
    edits: dict[str, Any],
    note: str,
    final: Any,
    via: str,
    ledger: Ledger | None = None,
) -> dict[str, Any]:
    """Store a decision on a pending review; returns the decided row.

    Only a pending review can be decided, so a UI form and the shell cannot both win.
    """
    ledger = ledger or default_ledger()
    row = get_review(review_id, ledger)
    now = datetime.now(UTC)
    seconds = (now - datetime.fromisoformat(row["created"])).total_seconds()
    status = {"approve": "approved", "edit": "edited", "reject": "rejected", "fail": "failed"}[
        decision
    ]
    if via == "timeout":
        status = f"timed_out_{status}"
    changed = ledger.write(
        """UPDATE reviews SET status = ?, decision = ?, reviewer = ?, edits = ?, note = ?,
        final = ?, decided = ?, seconds_to_decide = ?, decided_via = ?
        WHERE review_id = ? AND status = 'pending'""",
        (
            status,
            decision,
            sanitize_text(reviewer, limit=200),
            json.dumps(sanitize(edits, limit=500), default=str),
            sanitize_text(note, limit=2000),
            json.dumps(sanitize(final, limit=None), default=str),
            now.isoformat(),
            seconds,
            via,
            row["review_id"],
        ),
    )
    if changed != 1:
        raise WorkflowError(f"review {row['review_id']} is already {row['status']}")
    _settle_run(ledger, row["run_id"], decision)
    return get_review(row["review_id"], ledger)


def _settle_run(ledger: Ledger, run_id: str, decision: str) -> None:
    """A batch run waiting for review takes its outcome once no review of it is pending:
    completed when approved or edited, rejected (or failed) otherwise."""
    if decision in ("reject", "fail"):
        status = "rejected" if decision == "reject" else "failed"
        ledger.write(
            "UPDATE runs SET status = ? WHERE run_id = ? "
            "AND status IN ('needs_review', 'completed')",
            (status, run_id),
        )
        return
    ledger.write(
        "UPDATE runs SET status = 'completed' WHERE run_id = ? AND status = 'needs_review' "
        "AND NOT EXISTS (SELECT 1 FROM reviews WHERE run_id = ? AND status = 'pending')",
        (run_id, run_id),
    )


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("proposed", "reasons", "actions", "editable", "edits", "final"):
        if row.get(key):
            row[key] = json.loads(row[key])
    return row
