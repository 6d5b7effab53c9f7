"""How ``eightflow report`` shows a ledger report: rich tables, Markdown, the step table.

The report itself is computed by :func:`eightflow.observe.ledger_metrics.ledger_report`;
:mod:`eightflow.cli.report_cmd` runs the command and picks one of these renderings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eightflow.safety.inert import console_text

if TYPE_CHECKING:
    from rich.console import Console

COST_PLOT = "cost_per_day.png"
LATENCY_PLOT = "step_latency.png"


def usd_text(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:.6f}"


def percent_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def ms_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def number_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def summary_row(wf: dict[str, Any]) -> list[str]:
    return [
        str(wf["runs"]),
        str(wf["documents"]),
        percent_text(wf["success_rate"]),
        usd_text(wf["cost_usd"]),
        usd_text(wf["cost_per_run_usd"]),
        usd_text(wf["cost_per_document_usd"]),
        usd_text(wf["cost_per_successful_document_usd"]),
        percent_text(wf["cache_hit_rate"]),
        f"{wf['tokens_in']}/{wf['tokens_out']}",
        percent_text(wf.get("grounded_rate")),
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


def step_row(step: dict[str, Any]) -> list[str]:
    return [
        step["name"],
        str(step["runs"]),
        ms_text(step["p50_ms"]),
        ms_text(step["p95_ms"]),
        ms_text(step["p99_ms"]),
        str(step["tokens_in"]),
        str(step["tokens_out"]),
        usd_text(step["cost_usd"]),
        str(step["failures"]),
    ]


def group_row(group: dict[str, Any]) -> list[str]:
    return [
        str(group["key"]),
        group["unit"],
        str(group["runs"]),
        str(group["steps"]),
        percent_text(group["success_rate"]),
        ms_text(group["p50_ms"]),
        ms_text(group["p95_ms"]),
        ms_text(group["p99_ms"]),
        usd_text(group["cost_usd"]),
        str(group["calls"]),
        percent_text(group["cache_hit_rate"]),
        percent_text(group.get("grounded_rate")),
    ]


def scope_text(report: dict[str, Any], by: str | None) -> str:
    since = f"runs started since {report['since']}" if report["since"] else "all runs"
    return since + (f", split by {by}" if by else "")


def report_markdown(report: dict[str, Any], images: dict[str, str], by: str | None = None) -> str:
    """The report as Markdown: summary, steps, groups, failure reasons, chart links."""
    from eightflow.observe.report import markdown_table

    lines = ["# eightflow report", "", f"Scope: {scope_text(report, by)}.", ""]
    if not report["workflows"]:
        lines += ["No runs in the ledger for this selection.", ""]
    for wf in report["workflows"]:
        lines += [f"## {wf['name']}", ""]
        lines += [*markdown_table(SUMMARY_HEAD, [summary_row(wf)]), ""]
        lines += ["### Steps", ""]
        lines += [*markdown_table(STEP_HEAD, [step_row(s) for s in wf["steps"]]), ""]
        if wf["groups"]:
            lines += [f"### By {by}", ""]
            groups = [group_row(g) for g in wf["groups"]]
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


def print_tables(report: dict[str, Any], by: str | None, console: Console) -> None:
    from rich.table import Table

    console.print(f"[bold]eightflow report[/bold] [dim]({scope_text(report, by)})[/dim]")
    if not report["workflows"]:
        console.print("No runs in the ledger for this selection.")
    for wf in report["workflows"]:
        summary = Table(title=f"{wf['name']}", title_justify="left")
        for head in SUMMARY_HEAD:
            summary.add_column(head, justify="right")
        summary.add_row(*summary_row(wf))
        console.print(summary)
        steps = Table(title="Steps", title_justify="left")
        for i, head in enumerate(STEP_HEAD):
            steps.add_column(head, justify="left" if i == 0 else "right")
        for step in wf["steps"]:
            steps.add_row(*step_row(step))
        console.print(steps)
        if wf["groups"]:
            groups = Table(title=f"By {by}", title_justify="left")
            for i, head in enumerate([by or "key", *GROUP_HEAD]):
                groups.add_column(head, justify="left" if i < 2 else "right")
            for group in wf["groups"]:
                groups.add_row(*(console_text(c) for c in group_row(group)))
            console.print(groups)
        if wf["failure_reasons"]:
            reasons = Table(title="Failure reasons", title_justify="left")
            reasons.add_column("reason")
            reasons.add_column("runs", justify="right")
            for key, count in sorted(wf["failure_reasons"].items(), key=lambda kv: -kv[1]):
                reasons.add_row(console_text(key), str(count))
            console.print(reasons)


def step_table_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
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
