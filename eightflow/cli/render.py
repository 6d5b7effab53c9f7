"""Readable terminal output for a run: the outputs, then a table of steps."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from eightflow.observe.report import compact, fmt_cost
from eightflow.runtime.records import WorkflowResult
from eightflow.safety.inert import console_text
from eightflow.safety.sanitize import sanitize

_SKIP = {"report", "key_points", "keyphrases"}


def print_result(
    result: WorkflowResult,
    console: Console,
    decisions: list[dict[str, Any]] | None = None,
    wall_s: float | None = None,
) -> None:
    """The run's outputs and steps; ``decisions``: people's (the total then counts the
    wall time, ``wall_s``, with the wait for them)."""
    from eightflow.review.people import decision_line, total_line, waited_seconds

    data = result.to_dict()
    colour = "green" if result.ok else "red"
    console.print(
        f"[bold]{console_text(result.workflow)}[/bold] run {result.run_id}: "
        f"[{colour}]{result.status}[/{colour}]"
    )
    if result.error:
        console.print(f"[red]{console_text(sanitize(result.error))}[/red]")
    for step in result.steps:
        note = step.notes.get("grounding") or {}
        if note.get("grounded") is False:
            why = "; ".join(note.get("reasons") or [])
            console.print(
                f"[yellow]{console_text(step.name)}: ungrounded: {console_text(why)}[/yellow]"
            )
    for key, value in data["outputs"].items():
        if key in _SKIP:
            continue
        console.print(f"\n[bold cyan]{console_text(key)}[/bold cyan]")
        console.print(compact(value), markup=False)
    table = Table(title="\nSteps", show_lines=False)
    for column in ("step", "status", "attempts", "ms", "model", "prompt", "tokens in/out", "cost"):
        table.add_column(
            column, justify="right" if column in {"attempts", "ms", "cost"} else "left"
        )
    for step in result.steps:
        table.add_row(
            console_text(step.name),
            step.status,
            str(step.attempts),
            "" if step.duration_ms is None else f"{step.duration_ms:.0f}",
            console_text(step.model or ""),
            console_text(step.prompt or ""),
            f"{step.tokens_in}/{step.tokens_out}",
            fmt_cost(step.cost_usd),
        )
    console.print(table)
    if decisions:
        console.print("\n[bold]Decided by people[/bold]")
        for row in decisions:
            console.print(console_text(decision_line(row)))
    spent = total_line(result.duration_ms / 1000, wall_s, waited_seconds(decisions or []))
    console.print(
        f"total: {spent}, {result.model_calls} model calls, "
        f"{result.tokens.input}/{result.tokens.output} tokens, {fmt_cost(result.cost_usd)}"
    )
