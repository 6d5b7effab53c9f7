"""Retention: drop ledger rows older than a cutoff (``eightflow ledger prune``).

Runs started before the cutoff go, with their steps, model calls, planning rounds and
target checks; evaluations older than it go too. The file is then vacuumed so the space
(and the excerpts and answers it held) is really released.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eightflow.store.ledger import Ledger

_CHILDREN = ("steps", "calls", "planning", "target_checks")


def prune_ledger(ledger: Ledger, older_than: timedelta) -> dict[str, int]:
    """Delete what is older than ``older_than``; returns the rows deleted per table."""
    ledger.flush()
    cutoff = (datetime.now(UTC) - older_than).isoformat()
    deleted: dict[str, int] = {}
    with ledger._tx() as db:
        old = "SELECT run_id FROM runs WHERE started < ?"
        for table in _CHILDREN:
            cursor = db.execute(f"DELETE FROM {table} WHERE run_id IN ({old})", (cutoff,))
            deleted[table] = cursor.rowcount
        deleted["runs"] = db.execute("DELETE FROM runs WHERE started < ?", (cutoff,)).rowcount
        deleted["evals"] = db.execute("DELETE FROM evals WHERE created < ?", (cutoff,)).rowcount
    with ledger._lock:
        ledger._db.execute("VACUUM")
    return deleted
