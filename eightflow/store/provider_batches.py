"""Provider batches in the ledger: what was submitted, where it stands, who it answers.

A provider batch is recorded the moment the provider accepts it, with its input file and
its ``custom_id -> (document, step)`` map, in one transaction. That row is what makes a
batch run durable: a run killed while waiting finds the batch here and polls it again
instead of submitting (and paying for) the same lines twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eightflow.safety.sanitize import sanitize_text
from eightflow.store.ledger import Ledger

OPEN_STATES = ("validating", "in_progress", "finalizing", "cancelling", "submitted")
DEAD_STATES = ("failed", "expired", "cancelled", "lost")


@dataclass(frozen=True)
class SubmittedBatch:
    batch_id: str
    provider: str
    model: str
    input_file_id: str
    wave: int
    part: int
    run_key: str | None
    workflow: str | None
    owners: dict[str, list[tuple[str, str]]]  # custom_id -> [(document, step), ...]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def record_submitted(ledger: Ledger, batch: SubmittedBatch, state: str) -> None:
    """One batch and its line map, in one transaction."""
    with ledger._tx() as db:
        db.execute(
            """INSERT OR REPLACE INTO provider_batches (batch_id, provider, model,
            input_file_id, wave, part, state, total, completed, failed, run_key, workflow,
            created, updated, collected) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)""",
            (
                batch.batch_id,
                batch.provider,
                batch.model,
                batch.input_file_id,
                batch.wave,
                batch.part,
                state,
                len(batch.owners),
                0,
                0,
                batch.run_key,
                batch.workflow,
                _now(),
                _now(),
            ),
        )
        db.executemany(
            """INSERT OR IGNORE INTO provider_batch_lines (batch_id, custom_id, document_id,
            step, status) VALUES (?,?,?,?,'submitted')""",
            [
                (batch.batch_id, custom_id, document, step)
                for custom_id, owners in batch.owners.items()
                for document, step in owners
            ],
        )


def update_state(
    ledger: Ledger,
    batch_id: str,
    state: str,
    counts: tuple[int, int, int] | None = None,
    output_file_id: str | None = None,
    error_file_id: str | None = None,
) -> None:
    with ledger._tx() as db:
        db.execute(
            """UPDATE provider_batches SET state = ?, updated = ?,
            total = COALESCE(?, total), completed = COALESCE(?, completed),
            failed = COALESCE(?, failed), output_file_id = COALESCE(?, output_file_id),
            error_file_id = COALESCE(?, error_file_id) WHERE batch_id = ?""",
            (
                state,
                _now(),
                *(counts or (None, None, None)),
                output_file_id,
                error_file_id,
                batch_id,
            ),
        )


def record_collected(ledger: Ledger, batch_id: str, lines: dict[str, dict[str, Any]]) -> None:
    """Each line's outcome and cost (batch rate and the online equivalent); batch totals."""
    with ledger._tx() as db:
        for custom_id, line in lines.items():
            db.execute(
                """UPDATE provider_batch_lines SET status = ?, tokens_in = ?, tokens_out = ?,
                cost_usd = ?, online_cost_usd = ?, error = ?
                WHERE batch_id = ? AND custom_id = ?""",
                (
                    line["status"],
                    line.get("tokens_in"),
                    line.get("tokens_out"),
                    line.get("cost_usd"),
                    line.get("online_cost_usd"),
                    sanitize_text(line.get("error") or "", limit=500) or None,
                    batch_id,
                    custom_id,
                ),
            )
        db.execute(
            """UPDATE provider_batches SET collected = 1, updated = ?,
            cost_usd = (SELECT SUM(c) FROM (SELECT MAX(cost_usd) AS c
                        FROM provider_batch_lines l WHERE l.batch_id = ? GROUP BY custom_id)),
            online_cost_usd = (SELECT SUM(c) FROM (SELECT MAX(online_cost_usd) AS c
                        FROM provider_batch_lines l WHERE l.batch_id = ? GROUP BY custom_id))
            WHERE batch_id = ?""",
            (_now(), batch_id, batch_id, batch_id),
        )


def live_batch_for(
    ledger: Ledger, custom_ids: list[str], *, include_collected: bool = True
) -> dict[str, str]:
    """custom_id -> the batch already holding it (not failed, expired or cancelled).

    ``include_collected=False`` (``--refresh``) takes back only batches whose answers no
    run has read yet; by default an answered batch serves its lines again rather than
    paying for them twice (a run killed after reading a batch, before caching its answers).
    """
    found: dict[str, str] = {}
    dead = ",".join("?" * len(DEAD_STATES))
    collected = "" if include_collected else "AND b.collected = 0"
    for start in range(0, len(custom_ids), 500):
        chunk = custom_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = ledger.query(
            f"""SELECT l.custom_id, l.batch_id FROM provider_batch_lines l
            JOIN provider_batches b ON b.batch_id = l.batch_id
            WHERE l.custom_id IN ({marks}) AND b.state NOT IN ({dead}) {collected}
            ORDER BY b.created DESC""",
            (*chunk, *DEAD_STATES),
        )
        for row in rows:
            found.setdefault(row["custom_id"], row["batch_id"])
    return found


def batch_row(ledger: Ledger, batch_id: str) -> dict[str, Any] | None:
    rows = ledger.query("SELECT * FROM provider_batches WHERE batch_id = ?", (batch_id,))
    return rows[0] if rows else None


def list_batches(ledger: Ledger, *, open_only: bool = True) -> list[dict[str, Any]]:
    """Batches newest first; by default those not yet collected (still open at the provider,
    or finished but not yet read back)."""
    where = "WHERE collected = 0 AND state NOT IN ('failed','expired','cancelled','lost')"
    return ledger.query(
        f"SELECT * FROM provider_batches {where if open_only else ''} ORDER BY created DESC"
    )


def cost_comparison(
    ledger: Ledger, since: str | None = None, *, batch_ids: Sequence[str] | None = None
) -> dict[str, Any]:
    """What collected batch lines cost at the batch rate and would have cost online.

    The one place the comparison is computed: for the ledger's report (every batch created
    since ``since``) and for one run's summary (its ``batch_ids``). A line shared by two
    documents counts once. A total is None ("unpriced") when any of its lines has no price,
    rather than a sum that silently leaves those lines out; ``unpriced_lines`` says how many.
    """
    ids = list(dict.fromkeys(batch_ids)) if batch_ids is not None else None
    # SQLite takes an empty list (a run that sent no batch): no line matches.
    chosen = f"AND b.batch_id IN ({', '.join('?' * len(ids))})" if ids is not None else ""
    rows = ledger.query(
        f"""SELECT COUNT(*) AS lines, COUNT(DISTINCT batch_id) AS batches,
        SUM(cost) AS cost_usd, SUM(online) AS online_cost_usd,
        COUNT(*) - COUNT(cost) AS unpriced, COUNT(*) - COUNT(online) AS unpriced_online,
        SUM(cost IS NULL OR online IS NULL) AS unpriced_lines
        FROM (
            SELECT l.batch_id, l.custom_id, MAX(l.cost_usd) AS cost,
            MAX(l.online_cost_usd) AS online
            FROM provider_batch_lines l JOIN provider_batches b ON b.batch_id = l.batch_id
            WHERE l.status = 'completed' AND (? IS NULL OR b.created >= ?) {chosen}
            GROUP BY l.batch_id, l.custom_id)""",
        (since, since, *(ids or ())),
    )
    row = rows[0] if rows else {}
    lines = int(row.get("lines") or 0)
    return {
        "lines": lines,
        "batches": int(row.get("batches") or 0),
        "cost_usd": None if row.get("unpriced") else float(row.get("cost_usd") or 0.0),
        "online_cost_usd": (
            None if row.get("unpriced_online") else float(row.get("online_cost_usd") or 0.0)
        ),
        "unpriced_lines": int(row.get("unpriced_lines") or 0),
    }
