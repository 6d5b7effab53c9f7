"""``eightflow review list`` and ``eightflow review decide``: people in the loop.

``export`` writes a batch's decided reviews as a labelled CSV for ``eightflow eval``.
``list`` shows pending reviews (id, workflow, document, step, reason, link to the UI).
``decide`` records a decision exactly as the UI form does: the ledger, the document's row
in the results files and a ``review-decisions`` artifact are updated, and a paused single
run is resumed with the decision.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

review_app = typer.Typer(no_args_is_help=True, help="Pending human reviews of step outputs.")


@review_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
    all_reviews: Annotated[
        bool, typer.Option("--all", help="Decided reviews too, not only pending ones.")
    ] = False,
) -> None:
    """List pending reviews."""
    from eightflow.cli.console import out
    from eightflow.review.store import list_reviews

    rows = list_reviews(None if all_reviews else "pending")
    keys = ("review_id", "workflow", "document_id", "step", "status", "reasons", "link")
    if as_json:
        data = [{k: r.get(k) for k in (*keys, "proposed", "actions", "editable")} for r in rows]
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    if not rows:
        out.print("no pending reviews" if not all_reviews else "no reviews")
        return
    from rich.table import Table

    from eightflow.safety.inert import console_text

    table = Table("id", "workflow", "document", "step", "status", "reason", "link")
    for r in rows:
        cells = [r["review_id"], r["workflow"], r.get("document_id") or r["run_id"], r["step"]]
        cells += [r["status"], "; ".join(r.get("reasons") or []), r.get("link") or ""]
        table.add_row(*(console_text(c) for c in cells))
    out.print(table)


@review_app.command("decide")
def decide_command(
    review_id: Annotated[str, typer.Argument(help="A review id (a unique prefix will do).")],
    approve: Annotated[bool, typer.Option("--approve", help="Accept the output.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject the output.")] = False,
    edit: Annotated[
        list[str] | None,
        typer.Option("--edit", help="FIELD=VALUE correction (repeatable); typed by the schema."),
    ] = None,
    note: Annotated[str, typer.Option(help="Why (kept in the ledger).")] = "",
    reviewer: Annotated[str | None, typer.Option(help="Who decides (default $USER).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Approve, reject or edit a pending review."""
    from eightflow.cli.console import err, out
    from eightflow.cli.console import fail as _fail
    from eightflow.definition.review import ReviewEditError
    from eightflow.errors import WorkflowError

    chosen = [name for name, on in (("approve", approve), ("reject", reject)) if on]
    if edit:
        chosen.append("edit")
    if len(chosen) != 1:
        _fail("choose exactly one of --approve, --reject or --edit FIELD=VALUE")
        return
    from eightflow.cli.console import connect

    connection = connect()
    from eightflow.safety.inert import console_text

    (err if as_json else out).print(f"[dim]{console_text(connection.message)}[/dim]")
    from eightflow.registry import load_workflow
    from eightflow.review.decide import decide, parse_edits

    try:
        decided = decide(
            review_id,
            chosen[0],
            edits=parse_edits(edit or []),
            note=note,
            reviewer=reviewer,
            loader=load_workflow,
        )
    except (WorkflowError, ReviewEditError) as exc:
        _fail(str(exc))
        return
    if as_json:
        sys.stdout.write(json.dumps(decided, indent=2, default=str) + "\n")
    elif "resumed" in decided:
        out.print(f"review {decided['review_id']}: resumed flow run {decided['resumed']}")
    else:
        from eightflow.safety.inert import console_text

        out.print(
            console_text(
                f"review {decided['review_id']}: {decided['status']} by {decided['reviewer']}"
                + (f"; results updated in {decided['out_dir']}" if decided.get("out_dir") else "")
            )
        )
        runs = decided.get("queue_runs") or {}
        for run_id in runs.get("ended", []):
            out.print(f"review queue run {run_id}: nothing left to decide, ended")
        if runs.get("started"):
            out.print(f"review queue run {runs['started']}: holds the next pending reviews")


@review_app.command("export")
def export_command(
    results_dir: Annotated[Path, typer.Argument(help="A batch's results folder (its --out).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The labelled CSV to write.")],
    kind: Annotated[
        str, typer.Option(help="Which decisions: sentiment (text,label) or entities.")
    ] = "sentiment",
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output file if it exists.")
    ] = False,
) -> None:
    """Write a batch's decided reviews as a labelled CSV that `eightflow eval` scores."""
    from eightflow.cli.console import fail, out
    from eightflow.errors import WorkflowError
    from eightflow.registry import load_workflow
    from eightflow.review.export import export_labelled
    from eightflow.safety.inert import console_text

    try:
        summary = export_labelled(results_dir, output, kind, loader=load_workflow, force=force)
    except (WorkflowError, OSError) as exc:
        fail(str(exc))
        return
    out.print(console_text(summary.line()))
    out.print(console_text(f"score a prompt on it: eightflow eval WORKFLOW {output}"))


REVIEW_HEAD = ["workflow", "step", "prompt", "step runs", "reviews", "pending"]
REVIEW_HEAD += ["review rate", "approval rate", "edit rate", "rejection rate", "median s"]


def review_rate_rows(rates: list[dict[str, Any]]) -> list[list[str]]:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    return [
        [
            r["workflow"],
            r["step"],
            r["prompt"] or "-",
            str(r["step_runs"]),
            str(r["reviews"]),
            str(r["pending"]),
            pct(r["review_rate"]),
            pct(r["approval_rate"]),
            pct(r["edit_rate"]),
            pct(r["rejection_rate"]),
            "-"
            if r["median_seconds_to_decide"] is None
            else f"{r['median_seconds_to_decide']:.0f}",
        ]
        for r in rates
    ]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_review_rates(rates: list[dict[str, Any]], console: Any) -> None:
    """The report's review table: how often people look, approve and correct."""
    from rich.table import Table

    table = Table(title="Reviews", title_justify="left")
    for i, head in enumerate(REVIEW_HEAD):
        table.add_column(head, justify="left" if i < 3 else "right")
    from eightflow.safety.inert import console_text

    for row in review_rate_rows(rates):
        table.add_row(*(console_text(c) for c in row))
    console.print(table)


EVAL_HEAD = ["workflow", "dataset", "prompt", "model", "metric", "score", "rows", "eval id"]


def eval_score_rows(scores: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            str(r["workflow"] or "-"),
            r["dataset"],
            r["prompt"],
            r["model"],
            r["metric"],
            f"{r['value']:.4f}",
            str(r["rows"]),
            r["eval_id"],
        ]
        for r in scores
    ]


def print_eval_scores(scores: list[dict[str, Any]], console: Any) -> None:
    """The report's evaluations: the latest score of each prompt version and model."""
    from rich.table import Table

    table = Table(title="Evaluations (latest per prompt and model)", title_justify="left")
    for head in EVAL_HEAD:
        table.add_column(head, justify="right" if head in ("score", "rows") else "left")
    from eightflow.safety.inert import console_text

    for row in eval_score_rows(scores):
        table.add_row(*(console_text(c) for c in row))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")


DECISION_HEAD = ["decided", "workflow", "document", "step", "decision", "by", "note"]


def decision_rows(decisions: list[dict[str, Any]]) -> list[list[str]]:
    """People's latest decisions, one row each (``eightflow report``)."""
    from eightflow.review.people import who

    return [
        [
            str(d.get("decided") or "")[:19].replace("T", " "),
            str(d.get("workflow") or ""),
            str(d.get("document_id") or ""),
            str(d.get("step") or ""),
            str(d.get("status") or d.get("decision") or ""),
            who(d),
            str(d.get("note") or ""),
        ]
        for d in decisions
    ]


def print_decisions(decisions: list[dict[str, Any]], console: Any) -> None:
    from rich.table import Table

    from eightflow.safety.inert import console_text

    table = Table(title="Decided by people (latest first)", title_justify="left")
    for head in DECISION_HEAD:
        table.add_column(head)
    for row in decision_rows(decisions):
        table.add_row(*(console_text(c) for c in row))
    console.print(table)


GROUNDING_HEAD = ["workflow", "step", "model", "prompt", "not grounded because", "times"]


def grounding_rows(failures: list[dict[str, Any]]) -> list[list[str]]:
    """Grounding failures by kind of reason (``eightflow report``)."""
    keys = ("workflow", "step", "model", "prompt", "reason", "count")
    return [[str(f.get(k) or "") for k in keys] for f in failures]


def print_grounding_failures(failures: list[dict[str, Any]], console: Any) -> None:
    from rich.table import Table

    from eightflow.safety.inert import console_text

    table = Table(title="Grounding failures", title_justify="left")
    for head in GROUNDING_HEAD:
        table.add_column(head, justify="right" if head == "times" else "left")
    for row in grounding_rows(failures):
        table.add_row(*(console_text(c) for c in row))
    console.print(table)
