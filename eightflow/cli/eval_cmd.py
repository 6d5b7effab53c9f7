"""``eightflow eval``: score a workflow's prompt and a model on a labelled CSV.

The scores are kept in the ledger (:mod:`eightflow.evaluation`); this module prints them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eightflow.cli.report_cmd import DEFAULT_REPORT_DIR, _num
from eightflow.observe.inert import console_text

if TYPE_CHECKING:
    from rich.console import Console

    from eightflow.evaluation import EvalResult


def _print_eval(result: EvalResult, console: Console) -> None:
    from rich.table import Table

    console.print(
        f"[bold]{result.task}[/bold] eval of [bold]{result.prompt}[/bold] on "
        f"[bold]{result.model}[/bold]: {result.dataset}, {result.rows} rows"
        + (f", [red]{result.errors} failed calls[/red]" if result.errors else ""),
        highlight=False,
    )
    metrics = Table(title="Metrics", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for name, value in result.metrics.items():
        metrics.add_row(name, _num(value))
    console.print(metrics)
    breakdown = Table(
        title="Per label" if result.task == "sentiment" else "Per entity type",
        title_justify="left",
    )
    breakdown.add_column("label" if result.task == "sentiment" else "type")
    for head in ("precision", "recall", "f1", "support"):
        breakdown.add_column(head, justify="right")
    for key, values in result.per_label.items():
        breakdown.add_row(
            console_text(key),  # a dataset's label: shown literally
            _num(values["precision"]),
            _num(values["recall"]),
            _num(values["f1"]),
            str(values["support"]),
        )
    console.print(breakdown)
    if result.confusion:
        columns = list(next(iter(result.confusion.values())))
        confusion = Table(title="Confusion (rows: expected, columns: predicted)")
        confusion.add_column("")
        for column in columns:
            confusion.add_column(console_text(column), justify="right")
        for gold, counts in result.confusion.items():
            confusion.add_row(console_text(gold), *(str(counts[c]) for c in columns))
        console.print(confusion)
    misses = [p for p in result.predictions if not p.correct]
    if misses:
        console.print(f"Wrong rows: {len(misses)} of {result.rows} (first 10):")
        for miss in misses[:10]:
            text = miss.text if len(miss.text) <= 70 else miss.text[:69] + "…"
            got = miss.error or miss.predicted
            console.print(
                f"  row {miss.row}: {text}  expected {miss.expected}, got {got}",
                markup=False,
                highlight=False,
            )
    console.print(f"{result.metric}: {_num(result.value)}", highlight=False)


def eval_command(
    workflow: Annotated[str, typer.Argument(help="The workflow whose prompt is scored.")],
    dataset: Annotated[
        Path,
        typer.Argument(
            help="CSV: text,label (sentiment) or text,expected_entities; or a folder of "
            "real documents with manifest.csv (examples/eval/real)."
        ),
    ],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="litellm model string to score.")
    ] = None,
    prompt_version: Annotated[
        int | None, typer.Option("--prompt-version", help="Prompt version (default: newest).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    min_score: Annotated[
        float | None, typer.Option(help="Exit non-zero if the main metric is below this.")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="Eval id to compare with: exit non-zero on a drop.")
    ] = None,
    tolerance: Annotated[
        float, typer.Option(help="Largest drop against --baseline that still passes.")
    ] = 0.02,
    compare: Annotated[
        tuple[str, str] | None,
        typer.Option(help="Score two prompt versions or models side by side: A B."),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the --compare chart.")
    ] = DEFAULT_REPORT_DIR,
) -> None:
    """Score a workflow's prompt and a model on a labelled CSV; keep scores in the ledger.

    With --min-score or --baseline it is a gate (exit 1 when it fails); with --compare it
    scores two prompt versions or models on the same set.
    """
    from eightflow.cli.console import fail, out
    from eightflow.errors import WorkflowError
    from eightflow.evaluation import TASK_KINDS, evaluate, load_dataset
    from eightflow.evaluation_real import is_real_set
    from eightflow.registry import load_workflow

    if is_real_set(dataset):  # a folder of real documents with manifest.csv
        from eightflow.cli.eval_real_cmd import real_eval

        real_eval(workflow, dataset, model, as_json)
        return
    try:
        task, _ = load_dataset(dataset)
        cls = load_workflow(workflow)
        used = cls().definition.prompt_ids()
        prompt_id = TASK_KINDS[task].prompt or task
        if prompt_id not in used:
            fail(
                f"workflow '{workflow}' does not use the '{prompt_id}' prompt that {dataset.name} "
                f"scores (it uses: {', '.join(used) or 'none'})"
            )
        ref = str(prompt_version) if prompt_version is not None else None
        if compare:
            from eightflow.cli.eval_gate_cmd import run_compare

            run_compare(dataset, compare, task, workflow, model, ref, out_dir, as_json)
            return
        result = evaluate(dataset, model=model, prompt_ref=ref, workflow=workflow)
    except WorkflowError as exc:
        fail(str(exc))
        return
    gated = min_score is not None or baseline is not None
    if as_json and not gated:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    elif not as_json:
        _print_eval(result, out)
    if gated:  # prints the verdicts (in the JSON with --json); exit 1 if one fails
        from eightflow.cli.eval_gate_cmd import run_gates

        run_gates(result, min_score, baseline, tolerance, as_json)


def register(app: typer.Typer) -> None:
    """Add ``eval`` to the ``eightflow`` app."""
    app.command("eval")(eval_command)
