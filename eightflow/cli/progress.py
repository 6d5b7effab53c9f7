"""The terminal view of a batch: a live progress bar, then a short summary."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from eightflow.observe.report import fmt_cost
from eightflow.safety.inert import console_text


class BatchProgress:
    """Documents done and failed, spend so far and an ETA, redrawn as documents finish."""

    def __init__(self, console: Console, enabled: bool = True, expected: int | None = None) -> None:
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("[bold]documents"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
            disable=not enabled,
        )
        self.task_id = self.progress.add_task("batch", total=expected, detail="")

    def __enter__(self) -> BatchProgress:
        self.progress.start()
        return self

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.progress.stop()

    def update(self, summary: Any, outcome: Any) -> None:
        spend = fmt_cost(None if summary.unpriced else summary.cost_usd)
        waiting = f"awaiting review {len(summary.needs_review)}  " if summary.needs_review else ""
        detail = (
            f"ok {summary.completed}  {waiting}failed {summary.failed}  "
            f"cached {summary.cache_hits}  spend {spend}"
        )
        self.progress.update(
            self.task_id, completed=summary.total, total=summary.expected, detail=detail
        )


def print_batch(brief: dict[str, Any], console: Console) -> None:
    ok = brief["success"]
    waiting = brief.get("needs_review") or 0
    colour = "red" if not ok else "yellow" if waiting else "green"
    headline = brief.get("headline") or ("success" if ok else "not a success")
    console.print(
        f"[bold]{console_text(brief['workflow'])}[/bold] over {brief['total']} documents: "
        f"[{colour}]{headline}[/{colour}]"
    )
    console.print(
        f"completed {brief['completed']}, "
        + (f"awaiting review {waiting}, " if waiting else "")
        + (f"ungrounded {brief['ungrounded']}, " if brief.get("ungrounded") else "")
        + f"failed {brief['failed']}, unprocessed "
        f"{brief['unprocessed']}, from cache {brief['cache_hits']}; {brief['model_calls']} model "
        f"calls, {brief['tokens_in']}/{brief['tokens_out']} tokens, {fmt_cost(brief['cost_usd'])}, "
        f"{brief['duration_s']:.1f} s"
    )
    console.print(reliability_line(brief))
    batch_api = brief.get("batch_api")
    if batch_api:
        waves = " then ".join("+".join(w["steps"]) for w in batch_api["waves"])
        console.print(
            f"batch API: {len(batch_api['waves'])} waves ({waves}), "
            f"{batch_api['batches']} provider batches; cost at the batch rate "
            f"{fmt_cost(batch_api['cost_usd'])}, the same calls online "
            f"{fmt_cost(batch_api['online_cost_usd'])}"
        )
        for lost in batch_api.get("lost_batches") or []:
            console.print(
                f"[yellow]batch {console_text(lost['batch_id'])} could not be polled "
                f"({console_text(lost['why'])}): its {lost['lines']} lines were sent online, "
                "at the online price[/yellow]"
            )
    for switch in brief.get("budget_switches") or []:  # on_budget (eightflow.batch.on_budget)
        console.print(
            f"[yellow]on_budget {switch['policy']}: {console_text(switch['from_model'])} "
            f"({switch['from_mode']}) -> {console_text(switch['to_model'])} "
            f"({switch['to_mode']}): {console_text(switch['reason'])}[/yellow]"
        )
    for reason in brief["reasons"]:
        console.print(f"[red]- {console_text(reason)}[/red]")
    review = brief.get("needs_review_ids") or []
    if review:
        more = f" (+{len(review) - 10} more)" if len(review) > 10 else ""
        console.print(
            f"[yellow]needs review {len(review)}:[/yellow] "
            + console_text(", ".join(review[:10]) + more)
        )
        console.print("  see `eightflow review list`; decide with `eightflow review decide ID`")
        if brief.get("review_queue_run"):
            from eightflow.review.requests import run_page

            page = run_page(str(brief["review_queue_run"])) or brief["review_queue_run"]
            console.print(f"  or in the UI's review queue: {page} (press Resume)", markup=False)
    left = brief.get("unprocessed_ids") or []
    if left:
        more = f" (+{len(left) - 10} more in report.md)" if len(left) > 10 else ""
        console.print("unprocessed: " + ", ".join(left[:10]) + more, markup=False)
    out = brief["out"]
    console.print(
        f"results: {out}/results.csv, {out}/results.parquet, {out}/trace.jsonl, {out}/report.md",
        markup=False,
    )
    if brief.get("ui_url"):
        console.print(f"Prefect UI: {brief['ui_url']}")


def reliability_line(brief: dict[str, Any]) -> str:
    """Faults outlasted, the final pass, and concurrency changes, in one line."""
    return (
        f"faults outlasted {brief.get('faults_outlasted', 0)}; final pass "
        f"{brief.get('final_pass_documents', 0)} documents "
        f"({brief.get('final_pass_recovered', 0)} recovered); "
        f"concurrency changes {brief.get('concurrency_changes', 0)}"
    )
