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

from eightflow.safety.inert import console_text

if TYPE_CHECKING:
    from rich.console import Console

    from eightflow.observe.ledger_metrics import Dimension

COST_PLOT = "cost_per_day.png"
LATENCY_PLOT = "step_latency.png"
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


# -- formatting ------------------------------------------------------------------------------


def _usd(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:.6f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _summary_row(wf: dict[str, Any]) -> list[str]:
    return [
        str(wf["runs"]),
        str(wf["documents"]),
        _pct(wf["success_rate"]),
        _usd(wf["cost_usd"]),
        _usd(wf["cost_per_run_usd"]),
        _usd(wf["cost_per_document_usd"]),
        _usd(wf["cost_per_successful_document_usd"]),
        _pct(wf["cache_hit_rate"]),
        f"{wf['tokens_in']}/{wf['tokens_out']}",
        _pct(wf.get("grounded_rate")),
    ]


SUMMARY_HEAD = [
    "runs",
    "documents",
    "success",
    "cost",
    "cost/run",
    "cost/document",
    "cost/successful document",
    "cache hits",
    "tokens in/out",
    "grounded",
]
STEP_HEAD = [
    "step",
    "runs",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "tokens in",
    "tokens out",
    "cost",
    "failures",
]
GROUP_HEAD = ["unit", "runs", "steps", "success", "p50 ms", "p95 ms", "p99 ms", "cost"]
GROUP_HEAD += ["calls", "cache hits", "grounded"]


def _step_row(step: dict[str, Any]) -> list[str]:
    return [
        step["name"],
        str(step["runs"]),
        _ms(step["p50_ms"]),
        _ms(step["p95_ms"]),
        _ms(step["p99_ms"]),
        str(step["tokens_in"]),
        str(step["tokens_out"]),
        _usd(step["cost_usd"]),
        str(step["failures"]),
    ]


def _group_row(group: dict[str, Any]) -> list[str]:
    return [
        str(group["key"]),
        group["unit"],
        str(group["runs"]),
        str(group["steps"]),
        _pct(group["success_rate"]),
        _ms(group["p50_ms"]),
        _ms(group["p95_ms"]),
        _ms(group["p99_ms"]),
        _usd(group["cost_usd"]),
        str(group["calls"]),
        _pct(group["cache_hit_rate"]),
        _pct(group.get("grounded_rate")),
    ]


def _scope(report: dict[str, Any], by: str | None) -> str:
    since = f"runs started since {report['since']}" if report["since"] else "all runs"
    return since + (f", split by {by}" if by else "")


def report_markdown(report: dict[str, Any], images: dict[str, str], by: str | None = None) -> str:
    """The report as Markdown: summary, steps, groups, failure reasons, chart links."""
    from eightflow.observe.report import markdown_table

    lines = ["# eightflow report", "", f"Scope: {_scope(report, by)}.", ""]
    if not report["workflows"]:
        lines += ["No runs in the ledger for this selection.", ""]
    for wf in report["workflows"]:
        lines += [f"## {wf['name']}", ""]
        lines += [*markdown_table(SUMMARY_HEAD, [_summary_row(wf)]), ""]
        lines += ["### Steps", ""]
        lines += [*markdown_table(STEP_HEAD, [_step_row(s) for s in wf["steps"]]), ""]
        if wf["groups"]:
            lines += [f"### By {by}", ""]
            groups = [_group_row(g) for g in wf["groups"]]
            lines += [*markdown_table([by or "key", *GROUP_HEAD], groups)]
            lines.append("")
        lines += ["### Failure reasons", ""]
        reasons = sorted(wf["failure_reasons"].items(), key=lambda kv: (-kv[1], kv[0]))
        if reasons:
            lines += [*markdown_table(["reason", "runs"], [[k, str(v)] for k, v in reasons]), ""]
        else:
            lines += ["None.", ""]
    if report.get("reviews"):
        from eightflow.cli.review_cmd import REVIEW_HEAD, review_rate_rows

        lines += ["## Reviews", ""]
        lines += [*markdown_table(REVIEW_HEAD, review_rate_rows(report["reviews"])), ""]
    if report.get("decisions"):
        from eightflow.cli.review_cmd import DECISION_HEAD, decision_rows

        lines += ["## Decided by people", ""]
        lines += [*markdown_table(DECISION_HEAD, decision_rows(report["decisions"])), ""]
    if report.get("grounding_failures"):
        from eightflow.cli.review_cmd import GROUNDING_HEAD, grounding_rows

        lines += ["## Grounding failures", ""]
        failures = grounding_rows(report["grounding_failures"])
        lines += [*markdown_table(GROUNDING_HEAD, failures), ""]
    if report.get("evals") and by in ("prompt", "model"):
        from eightflow.cli.review_cmd import EVAL_HEAD, eval_score_rows

        lines += ["## Evaluations", ""]
        lines += [*markdown_table(EVAL_HEAD, eval_score_rows(report["evals"])), ""]
    if images:
        lines += ["## Charts", ""]
        titles = {COST_PLOT: "Cost per day", LATENCY_PLOT: "Step latency (p50/p95)"}
        for name, link in images.items():
            lines += [f"![{titles.get(name, name)}]({link})", ""]
    return "\n".join(lines).rstrip() + "\n"


def _print_tables(report: dict[str, Any], by: str | None, console: Console) -> None:
    from rich.table import Table

    console.print(f"[bold]eightflow report[/bold] [dim]({_scope(report, by)})[/dim]")
    if not report["workflows"]:
        console.print("No runs in the ledger for this selection.")
    for wf in report["workflows"]:
        summary = Table(title=f"{wf['name']}", title_justify="left")
        for head in SUMMARY_HEAD:
            summary.add_column(head, justify="right")
        summary.add_row(*_summary_row(wf))
        console.print(summary)
        steps = Table(title="Steps", title_justify="left")
        for i, head in enumerate(STEP_HEAD):
            steps.add_column(head, justify="left" if i == 0 else "right")
        for step in wf["steps"]:
            steps.add_row(*_step_row(step))
        console.print(steps)
        if wf["groups"]:
            groups = Table(title=f"By {by}", title_justify="left")
            for i, head in enumerate([by or "key", *GROUP_HEAD]):
                groups.add_column(head, justify="left" if i < 2 else "right")
            for group in wf["groups"]:
                groups.add_row(*(console_text(c) for c in _group_row(group)))
            console.print(groups)
        if wf["failure_reasons"]:
            reasons = Table(title="Failure reasons", title_justify="left")
            reasons.add_column("reason")
            reasons.add_column("runs", justify="right")
            for key, count in sorted(wf["failure_reasons"].items(), key=lambda kv: -kv[1]):
                reasons.add_row(console_text(key), str(count))
            console.print(reasons)


def _step_table_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    def rounded(value: float | None, digits: int) -> float | None:
        return None if value is None else round(value, digits)

    return [
        {
            "workflow": wf["name"],
            "step": s["name"],
            "runs": s["runs"],
            "p50_ms": rounded(s["p50_ms"], 1),
            "p95_ms": rounded(s["p95_ms"], 1),
            "p99_ms": rounded(s["p99_ms"], 1),
            "tokens_in": s["tokens_in"],
            "tokens_out": s["tokens_out"],
            "cost_usd": rounded(s["cost_usd"], 8),
            "failures": s["failures"],
        }
        for wf in report["workflows"]
        for s in wf["steps"]
    ]


def _publish(markdown: str, rows: list[dict[str, Any]], console: Console) -> str | None:
    """Both artifacts, created inside a ``publish-report`` flow run; returns its id."""
    from eightflow.cli.console import connect

    connection = connect()  # before Prefect is imported
    console.print(f"[dim]{connection.message}[/dim]")
    from prefect import flow
    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.runtime import flow_run

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
        _print_tables(report, split, out)
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
        flow_run_id = _publish(report_markdown(report, links, split), _step_table_rows(report), err)
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
