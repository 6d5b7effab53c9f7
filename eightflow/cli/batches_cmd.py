"""``eightflow batches``: provider batches that are still open, from the ledger.

Also the "Batch API" part of ``eightflow report``: what batch lines cost at the batch rate
against what the same calls would have cost online. Heavy imports stay inside functions.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

COLUMNS = ("batch_id", "wave", "model", "state", "completed", "failed", "total", "created")


def batches_command(
    show_all: Annotated[
        bool, typer.Option("--all", help="Also batches already collected or dead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Open provider batches (Batch API mode) with their state and request counts.

    States are as a run last saw them; a run in progress or the next run updates them.
    """
    from rich.table import Table

    from eightflow.cli.console import out
    from eightflow.store.ledger import default_ledger
    from eightflow.store.provider_batches import list_batches

    rows = list_batches(default_ledger(), open_only=not show_all)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return
    if not rows:
        out.print("no open provider batches")
        return
    from eightflow.safety.inert import console_text

    table = Table(*COLUMNS)
    for row in rows:  # provider text: shown literally, never as rich markup
        table.add_row(*(console_text("" if row.get(c) is None else row[c]) for c in COLUMNS))
    out.print(table)


def add_batch_api(report: dict[str, Any], ledger: Any, window: timedelta | None) -> None:
    """Put the batch-rate vs online comparison into a ledger report, when there is one."""
    from eightflow.store.provider_batches import cost_comparison

    since = (datetime.now(UTC) - window).isoformat() if window else None
    comparison = cost_comparison(ledger, since)
    if comparison.get("lines"):
        report["batch_api"] = comparison


def batch_api_lines(report: dict[str, Any]) -> list[str]:
    info = report.get("batch_api")
    if not info:
        return []
    batch, online = info.get("cost_usd"), info.get("online_cost_usd")
    text = f"${batch:.6f}" if batch is not None else "unpriced"
    same = f"${online:.6f}" if online is not None else "unpriced"
    return [
        f"Batch API: {info['lines']} calls in {info['batches']} provider batches cost {text} "
        f"at the batch rate; the same calls online: {same}"
    ]


def register(app: typer.Typer) -> None:
    app.command("batches")(batches_command)
