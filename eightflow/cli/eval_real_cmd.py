"""``eightflow eval WORKFLOW DIR``: a real-document set, scored and printed with its targets.

Called by ``eval`` when the dataset is a folder holding ``manifest.csv`` (or that
manifest): see :mod:`eightflow.evaluation_real`. Documents are read with the loaders
``analyze`` uses, so a PDF is scored on the text a run would see.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from eightflow.evaluation_real import RealSetResult

__all__ = ["print_real_eval", "real_eval"]


def _read(path: Path) -> str:
    from tasks.loading.load import load_document

    return load_document(path).text


def real_eval(workflow: str, dataset: Path, model: str | None, as_json: bool) -> None:
    """Score ``model`` on the set for ``workflow`` and print the result (or its JSON)."""
    from eightflow.cli.main import _fail, out
    from eightflow.errors import WorkflowError
    from eightflow.evaluation_real import PROMPTS, evaluate_real
    from eightflow.registry import load_workflow

    try:
        used = load_workflow(workflow)().definition.prompt_ids()
        missing = [p for p in PROMPTS.values() if p not in used]
        if missing:
            _fail(
                f"workflow '{workflow}' does not use the prompts {', '.join(missing)} that "
                f"{dataset.name} scores (it uses: {', '.join(used) or 'none'})"
            )
        result = evaluate_real(dataset, model=model, reader=_read, workflow=workflow)
    except WorkflowError as exc:
        _fail(str(exc))
        return
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        print_real_eval(result, out)


def print_real_eval(result: RealSetResult, console: Console) -> None:
    """The targets table, the sentiment confusion, and the first misses of each task."""
    from rich.table import Table

    console.print(
        f"[bold]real-document[/bold] eval on [bold]{result.model}[/bold]: "
        f"{result.dataset}, {result.rows} documents "
        f"({', '.join(f'{t} {p}' for t, p in result.prompts.items())})",
        highlight=False,
    )
    table = Table(title="Targets", title_justify="left")
    for head in ("metric", "value", "target", "met"):
        table.add_column(head, justify="left" if head == "metric" else "right")
    for name, value in result.metrics.items():
        bar = result.targets.get(name)
        met = "" if bar is None else ("yes" if result.met[name] else "NO")
        shown = "-" if value is None else f"{value:.4f}"
        table.add_row(name, shown, "" if bar is None else f">= {bar:.2f}", met)
    console.print(table)
    confusion = result.sentiment.confusion
    columns = list(next(iter(confusion.values())))
    grid = Table(title="Sentiment confusion (rows: expected, columns: predicted)")
    grid.add_column("")
    for column in columns:
        grid.add_column(column, justify="right")
    for expected, counts in confusion.items():
        grid.add_row(expected, *(str(counts[c]) for c in columns))
    console.print(grid)
    for row in [r for r in result.sentiment.predictions if not r.correct][:10]:
        console.print(
            f"  sentiment {row.text}: expected {row.expected}, got {row.error or row.predicted}",
            markup=False,
            highlight=False,
        )
    for row in [r for r in result.entities.predictions if not r.correct][:10]:
        gold: set[tuple[str, ...]] = set()
        got: set[tuple[str, ...]] = set()
        if isinstance(row.expected, list):
            gold = {tuple(pair) for pair in row.expected}
        if isinstance(row.predicted, list):
            got = {tuple(pair) for pair in row.predicted}
        console.print(
            f"  entities {row.text}: extra {sorted(got - gold)}, missed {sorted(gold - got)}",
            markup=False,
            highlight=False,
        )
    for summary in [s for s in result.summaries if not s.correct][:10]:
        console.print(
            f"  summary {summary.file}: lacks {summary.missing}",
            markup=False,
            highlight=False,
        )
    passed = sum(result.met.values())
    console.print(f"targets met: {passed} of {len(result.met)}", highlight=False)
