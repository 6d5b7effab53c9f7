"""Decisions by people, as the CLI, a run's report artifact and ``eightflow report`` show
them: who decided what, when, where (the UI form, the shell, a timeout), and how long the
run waited for them.

The reviews table of the ledger is the record; this module only reads it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eightflow.review.store import decode_row
from eightflow.safety.sanitize import sanitize_text
from eightflow.store.ledger import Ledger, default_ledger

#: What a person sees of each decided review (the JSON of ``eightflow run --json``).
DECISION_KEYS = (
    *("review_id", "step", "document_id", "decision", "status", "reviewer"),
    *("decided", "decided_via", "seconds_to_decide", "note", "edits"),
)
_WHERE = {"ui": "in the UI", "cli": "from the shell", "timeout": "by timeout"}


def decisions_of_run(run_id: str, ledger: Ledger | None = None) -> list[dict[str, Any]]:
    """The decided reviews of one run, in the order they were decided."""
    rows = (ledger or default_ledger()).query(
        "SELECT * FROM reviews WHERE run_id = ? AND decision IS NOT NULL ORDER BY decided",
        (run_id,),
    )
    return [public(decode_row(row)) for row in rows]


def recent_decisions(
    ledger: Ledger,
    workflow: str | None = None,
    cutoff: datetime | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The latest decided reviews (newest first), for ``eightflow report``."""
    sql = "SELECT * FROM reviews WHERE decision IS NOT NULL AND decided >= ?"
    params: list[Any] = [cutoff.isoformat() if cutoff is not None else ""]
    if workflow is not None:
        sql += " AND workflow = ?"
        params.append(workflow)
    rows = ledger.query(sql + " ORDER BY decided DESC LIMIT ?", (*params, limit))
    return [public(decode_row(row)) | {"workflow": row["workflow"]} for row in rows]


def public(row: dict[str, Any]) -> dict[str, Any]:
    """The part of a decided review a person reads (sanitized)."""
    found = {key: row.get(key) for key in DECISION_KEYS}
    found["reviewer"] = sanitize_text(str(row.get("reviewer") or ""), limit=200)
    found["note"] = sanitize_text(str(row.get("note") or ""), limit=300)
    return found


def who(row: dict[str, Any]) -> str:
    """ "ana in the UI", "nobody (timeout)"."""
    if row.get("decided_via") == "timeout":
        return "nobody (timeout)"
    where = _WHERE.get(str(row.get("decided_via") or ""), "")
    return " ".join(part for part in (row.get("reviewer") or "someone", where) if part)


def when(row: dict[str, Any]) -> str:
    """The decision's time, to the second, in UTC."""
    decided = row.get("decided")
    if not decided:
        return ""
    moment = datetime.fromisoformat(str(decided))
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def decision_line(row: dict[str, Any]) -> str:
    """One line: ``sentiment: edited by ana in the UI at 2026-12-07 08:01:14 UTC
    (label=negative); note: a FAQ is factual``."""
    status = str(row.get("status") or row.get("decision") or "").removeprefix("timed_out_")
    line = f"{row.get('step')}: {status} by {who(row)}"
    if row.get("decided"):
        line += f" at {when(row)}"
    edits = row.get("edits") or {}
    if isinstance(edits, dict) and edits:
        line += " (" + ", ".join(f"{k}={v}" for k, v in edits.items()) + ")"
    if row.get("note"):
        line += f"; note: {row['note']}"
    return line


def waited_seconds(rows: list[dict[str, Any]]) -> float:
    """How long a run waited for its decisions (asked one after another)."""
    return sum(float(r.get("seconds_to_decide") or 0.0) for r in rows)


def fmt_duration(seconds: float) -> str:
    """``3.73 s``, ``2 min 41 s``, ``1 h 02 min``."""
    if seconds < 60:
        return f"{seconds:.2f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def total_line(duration_s: float, wall_s: float | None, waited_s: float) -> str:
    """The run's time: its own, or (after a wait for people) the wall time and the wait."""
    if wall_s is None or waited_s <= 0:
        return fmt_duration(duration_s)
    return f"{fmt_duration(wall_s)}, of which {fmt_duration(waited_s)} waiting for review"


def people_markdown(rows: list[dict[str, Any]]) -> str:
    """A report section listing the decisions (escaped), or "" when there are none."""
    if not rows:
        return ""
    from eightflow.safety.inert import md_cell

    lines = ["", "## Decided by people", ""]
    # One line each: a newline in a note or an edit would end the list item, and the rest
    # (a "---" rule, a "> " quote, an indented code block) would be markdown of its own.
    lines += [f"- {md_cell(decision_line(row))}" for row in rows]
    return "\n".join([*lines, ""])
