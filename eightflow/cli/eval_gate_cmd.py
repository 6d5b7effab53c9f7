"""The gate and comparison halves of ``eightflow eval`` (see :mod:`eightflow.eval_gates`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from eightflow.evaluation import EvalResult


def run_gates(
    result: EvalResult,
    min_score: float | None,
    baseline: str | None,
    tolerance: float,
    as_json: bool,
) -> None:
    """Judge ``result``; print the verdicts; exit 1 when any gate fails."""
    from eightflow.cli.main import _fail, out
    from eightflow.errors import WorkflowError
    from eightflow.eval_gates import baseline_score, check_baseline, check_min_score

    checks = []
    if min_score is not None:
        checks.append(check_min_score(result, min_score))
    if baseline is not None:
        try:
            checks.append(check_baseline(result, baseline_score(baseline), tolerance))
        except WorkflowError as exc:
            _fail(str(exc))
    if as_json:
        data = json.loads(result.model_dump_json())
        data["gates"] = [c.model_dump() for c in checks]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        out.print(f"eval id: {result.eval_id}")
        for check in checks:
            colour = "green" if check.passed else "red"
            verdict = "pass" if check.passed else "FAIL"
            out.print(f"[{colour}]{check.gate}: {verdict}[/{colour}] {check.message}")
    if not all(c.passed for c in checks):
        raise typer.Exit(1)


def run_compare(
    dataset: Path,
    variants: tuple[str, str],
    task: str,
    workflow: str,
    model: str | None,
    prompt_ref: str | None,
    out_dir: Path,
    as_json: bool,
) -> None:
    """Score two variants on one set; a side-by-side table and a bar chart."""
    from rich.table import Table

    from eightflow.cli.main import err, out
    from eightflow.eval_gates import compare, comparison_rows, plot_comparison, variant_label

    results = compare(
        dataset, variants, task=task, workflow=workflow, model=model, prompt_ref=prompt_ref
    )
    chart: Path | None = None
    try:
        chart = plot_comparison(results, out_dir / f"compare_{task}.png")
    except ImportError as exc:
        err.print(f"[yellow]no chart: {exc}[/yellow]")
    if as_json:
        data = {
            "variants": [
                {
                    "variant": v,
                    "eval_id": r.eval_id,
                    "prompt": r.prompt,
                    "model": r.model,
                    "metrics": r.metrics,
                }
                for v, r in zip(variants, results, strict=True)
            ],
            "chart": str(chart) if chart else None,
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    a, b = results
    table = Table(title=f"{task} on {dataset.name}, {a.rows} rows", title_justify="left")
    table.add_column("metric")
    table.add_column(f"A: {variant_label(a)}", justify="right")
    table.add_column(f"B: {variant_label(b)}", justify="right")
    table.add_column("B - A", justify="right")
    for row in comparison_rows(results):
        table.add_row(*row)
    out.print(table)
    out.print(
        f"eval ids: A {a.eval_id}, B {b.eval_id} (in the ledger: `eightflow report --by prompt`)"
    )
    if chart:
        out.print(f"Chart: {chart}")
