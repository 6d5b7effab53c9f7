"""``eightflow report`` and ``eightflow export`` (``eval`` is in :mod:`eightflow.cli.eval_cmd`).

``report`` summarises the ledger (success, failures, cost, cache use, step latency) as
tables, JSON or Markdown, draws two PNG charts and can publish the report as Prefect
artifacts. ``export`` writes the ledger's tables as Parquet or CSV.

Everything heavy (pandas, matplotlib, Prefect, litellm) is imported inside the commands,
so registering them costs ``eightflow --help`` nothing.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from eightflow.cli.report_render import (
    COST_PLOT,
    LATENCY_PLOT,
    print_tables,
    report_markdown,
    step_table_rows,
)
from eightflow.safety.inert import console_text

if TYPE_CHECKING:
    from rich.console import Console

    from eightflow.observe.ledger_metrics import Dimension

MARKDOWN_KEY = "eightflow-report"
TABLE_KEY = "eightflow-report-steps"
EXPORT_TABLES = ("runs", "steps", "calls", "evals")


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


class SplitBy(StrEnum):
    step = "step"
    model = "model"
    prompt = "prompt"
    version = "version"


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


ByOption = Annotated[
    SplitBy | None, typer.Option("--by", help="Split by step, model, prompt or version.")
]
DEFAULT_REPORT_DIR = Path("eightflow-report")
DEFAULT_EXPORT_DIR = Path("eightflow-export")


def _publish(markdown: str, rows: list[dict[str, Any]], console: Console) -> str | None:
    """Both artifacts, created inside a ``publish-report`` flow run; returns its id."""
    from eightflow.cli.console import connect

    connection = connect()  # before Prefect is imported
    console.print(f"[dim]{connection.message}[/dim]")
    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.runtime import flow_run

    from eightflow.compiler.flows import flow

    @flow(name="publish-report", log_prints=False)
    def publish_report() -> str:
        create_markdown_artifact(
            key=MARKDOWN_KEY, markdown=markdown, description="eightflow ledger report"
        )
        create_table_artifact(
            key=TABLE_KEY, table=rows, description="Step latency, tokens and cost"
        )
        return str(flow_run.id)

    return publish_report()


def report_command(
    workflow: Annotated[
        str | None, typer.Option("--workflow", "-w", help="Only this workflow.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only runs started this recently: 30m, 24h, 7d, 2w.")
    ] = None,
    by: ByOption = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="table, json or markdown.")
    ] = ReportFormat.table,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the PNG charts.")
    ] = DEFAULT_REPORT_DIR,
    publish: Annotated[
        bool, typer.Option(help="Also publish Prefect artifacts (markdown + step table).")
    ] = False,
) -> None:
    """Success, failures, cost, cache use and step latency across the ledger's runs."""
    from eightflow.cli.console import err, fail, out
    from eightflow.observe.ledger_metrics import cost_per_day, ledger_report, parse_duration
    from eightflow.server.ui_links import flow_run_url
    from eightflow.store.ledger import default_ledger

    try:
        window = parse_duration(since) if since else None
    except ValueError as exc:
        fail(str(exc))
        return
    split = by.value if by else None
    ledger = default_ledger()
    report = ledger_report(ledger, workflow, window, cast("Dimension | None", split))
    from datetime import datetime as _dt

    from eightflow.cli.batches_cmd import add_batch_api, batch_api_lines
    from eightflow.observe.review_metrics import eval_scores, grounding_failures, review_rates
    from eightflow.review.people import recent_decisions

    add_batch_api(report, ledger, window)
    cutoff = _dt.fromisoformat(report["since"]) if report["since"] else None
    report["reviews"] = review_rates(ledger, workflow, cutoff)
    report["evals"] = eval_scores(ledger, workflow)
    report["decisions"] = recent_decisions(ledger, workflow, cutoff)
    report["grounding_failures"] = grounding_failures(ledger, workflow, cutoff)
    notes = err if fmt is ReportFormat.json else out
    if workflow and not report["workflows"]:
        err.print(
            f"[yellow]no runs of '{console_text(workflow)}' in {console_text(ledger.path)}[/yellow]"
        )
    images: dict[str, Path] = {}
    days = cost_per_day(ledger, workflow, window)
    if days or any(wf["steps"] for wf in report["workflows"]):
        from eightflow.observe.plots import plot_cost_per_day, plot_step_latency

        try:
            if days:
                images[COST_PLOT] = plot_cost_per_day(days, out_dir / COST_PLOT)
            if any(wf["steps"] for wf in report["workflows"]):
                images[LATENCY_PLOT] = plot_step_latency(report, out_dir / LATENCY_PLOT)
        except ImportError as exc:  # the report itself does not need matplotlib
            err.print(f"[yellow]no charts: {exc}; `pip install matplotlib` to draw them[/yellow]")
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    elif fmt is ReportFormat.markdown:
        sys.stdout.write(report_markdown(report, {k: str(p) for k, p in images.items()}, split))
        sys.stdout.write("".join(f"\n- {line}\n" for line in batch_api_lines(report)))
    else:
        print_tables(report, split, out)
        for line in batch_api_lines(report):
            out.print(line)
    if report["reviews"] and fmt is ReportFormat.table:
        from eightflow.cli.review_cmd import print_review_rates

        print_review_rates(report["reviews"], out)
    if report["decisions"] and fmt is ReportFormat.table:
        from eightflow.cli.review_cmd import print_decisions

        print_decisions(report["decisions"], out)
    if report["grounding_failures"] and fmt is ReportFormat.table:
        from eightflow.cli.review_cmd import print_grounding_failures

        print_grounding_failures(report["grounding_failures"], out)
    if report["evals"] and split in ("prompt", "model") and fmt is ReportFormat.table:
        from eightflow.cli.review_cmd import print_eval_scores

        print_eval_scores(report["evals"], out)
    if images and fmt is not ReportFormat.markdown:
        notes.print("Charts: " + ", ".join(str(p) for p in images.values()))
    if publish:
        links = {k: p.resolve().as_uri() for k, p in images.items()}
        flow_run_id = _publish(report_markdown(report, links, split), step_table_rows(report), err)
        url = flow_run_url(flow_run_id)
        err.print(
            f"Published artifacts '{MARKDOWN_KEY}' and '{TABLE_KEY}' "
            f"(flow run {flow_run_id})" + (f": {url}" if url else "")
        )


def export_command(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="parquet or csv.")
    ] = ExportFormat.parquet,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write to.")
    ] = DEFAULT_EXPORT_DIR,
) -> None:
    """Write the ledger's runs, steps, calls and evals tables as Parquet or CSV files."""
    import pandas as pd

    from eightflow.cli.console import out
    from eightflow.store.ledger import default_ledger

    ledger = default_ledger()
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in EXPORT_TABLES:
        columns = [row["name"] for row in ledger.query(f"PRAGMA table_info({table})")]
        frame = pd.DataFrame(ledger.query(f"SELECT * FROM {table}"), columns=columns)
        path = out_dir / f"{table}.{fmt.value}"
        if fmt is ExportFormat.parquet:
            frame.to_parquet(path, index=False)
        else:  # a document's id or an error's text can start a spreadsheet formula
            from eightflow.safety.inert import csv_cell

            frame.map(csv_cell).to_csv(path, index=False)
        out.print(f"{path}  [dim]({len(frame)} rows)[/dim]", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``export`` to the ``eightflow`` app."""
    app.command("report")(report_command)
    app.command("export")(export_command)
