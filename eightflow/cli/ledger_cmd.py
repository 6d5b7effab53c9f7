"""``eightflow ledger prune --older-than 30d``: the ledger's retention, on demand."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

ledger_app = typer.Typer(help="Look after the local ledger (EIGHTFLOW_HOME/ledger.sqlite).")


@ledger_app.command("prune")
def prune_command(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age past which rows go: 30d, 12h, 2w.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print counts as JSON.")] = False,
) -> None:
    """Delete runs (with their steps, calls and planning) and evals older than a duration."""
    from eightflow.observe.ledger_metrics import parse_duration
    from eightflow.store.ledger import default_ledger
    from eightflow.store.retention import prune_ledger

    console = Console()
    try:
        window = parse_duration(older_than)
    except ValueError as exc:
        Console(stderr=True).print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    ledger = default_ledger()
    deleted = prune_ledger(ledger, window)
    if as_json:
        typer.echo(json.dumps(deleted))
    else:
        console.print(
            f"pruned {deleted['runs']} runs older than {older_than} from {ledger.path} "
            f"({deleted['calls']} model calls, {deleted['steps']} steps, "
            f"{deleted['evals']} evals)",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
