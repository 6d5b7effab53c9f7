"""``eightflow eval``: score a workflow's prompts and a model on a labelled set.

One command for every kind of set (:mod:`eightflow.evaluation`): a labelled CSV or a
folder of real documents. ``--min-score``, ``--baseline`` and ``--compare`` work the same
on each. A real-document set whose manifest has a ``split`` column is scored per split:
``--split dev`` or ``--split test``, or both side by side (the gates then judge test). The
scores are kept in the ledger; this module prints them and the verdicts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from eightflow.cli.report_cmd import DEFAULT_REPORT_DIR
from eightflow.cli.report_render import number_text as _num
from eightflow.safety.inert import console_text

if TYPE_CHECKING:
    from rich.console import Console

    from eightflow.evaluation import EvalResult
    from eightflow.evaluation.evaluator import EvalKind, Reader


def _table(console: Console, title: str, heads: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, head in enumerate(heads):
        table.add_column(head, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _print_breakdown(result: EvalResult, console: Console) -> None:
    """Per label (or type) precision/recall/F1, the confusion table, and the first misses."""
    sentiment = "accuracy" in result.metrics
    heads = ["label" if sentiment else "type", "precision", "recall", "f1", "support"]
    rows = [
        # a dataset's labels are shown literally, never as markup
        [console_text(key), *(_num(v[h]) for h in ("precision", "recall", "f1")), str(v["support"])]
        for key, v in result.per_label.items()
    ]
    _table(console, "Per label" if sentiment else "Per entity type", heads, rows)
    if sentiment:
        console.print(
            f"accuracy {_num(result.metrics['accuracy'])}, majority baseline "
            f"{_num(result.metrics.get('majority_baseline'))} (always answering the most "
            f"frequent label), macro recall {_num(result.metrics.get('macro_recall'))}",
            highlight=False,
        )
        accuracy, baseline = result.metrics["accuracy"], result.metrics.get("majority_baseline")
        if accuracy is not None and baseline is not None and accuracy <= baseline:
            top = max(result.per_label, key=lambda k: result.per_label[k]["support"] or 0)
            console.print(
                f"[yellow]no better than answering '{console_text(top)}' every time[/yellow]",
                highlight=False,
            )
    if result.confusion:
        columns = list(next(iter(result.confusion.values())))
        grid = [
            [console_text(gold), *(str(c[x]) for x in columns)]
            for gold, c in result.confusion.items()
        ]
        heads = ["", *(console_text(c) for c in columns)]
        _table(console, "Confusion (rows: expected, columns: predicted)", heads, grid)
    misses = [p for p in result.predictions if not p.correct]
    if misses:
        console.print(f"Wrong {result.task} rows: {len(misses)} of {result.rows} (first 10):")
    for miss in misses[:10]:
        text = miss.text if len(miss.text) <= 70 else miss.text[:69] + "…"
        if isinstance(miss.expected, list) and miss.error is None:
            gold = {tuple(p) for p in miss.expected}
            got = {tuple(p) for p in miss.predicted or []}
            said = f"extra {sorted(got - gold)}, missed {sorted(gold - got)}"
        else:
            said = f"expected {miss.expected}, got {miss.error or miss.predicted}"
        console.print(f"  row {miss.row}: {text}  {said}", markup=False, highlight=False)


def print_result(result: EvalResult, console: Console) -> None:
    """Metrics (with targets, if the kind has any), breakdowns, summaries and misses."""
    from eightflow.evaluation.summary_checks import is_clean

    unit = "documents" if result.parts else "rows"
    console.print(
        f"[bold]{result.task}[/bold] eval of [bold]{result.prompt}[/bold] on "
        f"[bold]{result.model}[/bold]: {result.dataset}, {result.rows} {unit}"
        + (f", [red]{result.errors} failed calls[/red]" if result.errors else ""),
        highlight=False,
    )
    heads = ["metric", "value", *(["target", "met"] if result.targets else [])]
    rows = []
    for name, value in result.metrics.items():
        bar = result.targets.get(name)
        met = "" if bar is None else "n/a" if name not in result.met else "yes"
        if result.met.get(name) is False:
            met = "NO"
        rows.append(
            [
                name,
                _num(value),
                *(["" if bar is None else f">= {bar:.2f}", met] if result.targets else []),
            ]
        )
    _table(console, "Metrics", heads, rows)
    for part in [result, *result.parts.values()]:
        if part.per_label or part.confusion:
            _print_breakdown(part, console)
    if result.summaries:
        n = len(result.summaries)
        clean = sum(is_clean(s.problems) for s in result.summaries)
        console.print(
            f"summaries: {clean} of {n} clean of markup, menus and code; "
            f"{sum(s.correct for s in result.summaries)} of {n} hold every key term; "
            f"ROUGE-L F1 against the gist {_num(result.metrics.get('summary_gist_rouge_l'))}",
            highlight=False,
        )
        flawed = [s for s in result.summaries if s.problems or not s.correct]
        flawed.sort(key=lambda s: (not s.missing, is_clean(s.problems)))  # worst first
        for s in flawed[:10]:
            lacks = f"lacks {s.missing}; " if s.missing else ""
            console.print(
                f"  summary {s.file}: {lacks}{'; '.join(s.problems) or 'clean'}",
                markup=False,
                highlight=False,
            )
    for role in result.reliability:
        heads = ["confidence", "count", "accuracy"]
        console.print(f"Reliability of {role} confidence (share right per bucket):")
        _table(console, "", heads, _reliability_rows({result.dataset: result}, role))
    if result.met:
        console.print(
            f"targets met: {sum(result.met.values())} of {len(result.met)}", highlight=False
        )
    console.print(f"{result.metric}: {_num(result.value)}", highlight=False)


def _reliability_rows(results: dict[str, EvalResult], role: str) -> list[list[str]]:
    buckets = next(iter(r.reliability[role] for r in results.values() if role in r.reliability))
    rows = []
    for bucket in buckets:
        cells = [bucket]
        for result in results.values():
            cell = result.reliability.get(role, {}).get(bucket, {})
            cells += [str(cell.get("count", 0)), _num(cell.get("accuracy"))]
        rows.append(cells)
    return rows


def print_splits(results: dict[str, EvalResult], console: Console) -> None:
    """The splits of a real-document set side by side: every metric (majority baseline
    and per-label recall included), the targets judged on the last (held-out) split, and
    the reliability of the model's confidence."""
    first, held_out = next(iter(results.values())), list(results)[-1]
    sizes = ", ".join(f"{name} {r.rows} documents" for name, r in results.items())
    failed = sum(r.errors for r in results.values())
    console.print(
        f"[bold]{first.task}[/bold] eval of [bold]{first.prompt}[/bold] on "
        f"[bold]{first.model}[/bold]: {Path(first.dataset_path).name}, {sizes}"
        + (f", [red]{failed} failed calls[/red]" if failed else ""),
        highlight=False,
    )
    heads = ["metric", *results, "target", f"met ({held_out})"]
    rows = []
    for name in first.metrics:
        bar = first.targets.get(name)
        met = results[held_out].met.get(name)
        verdict = "" if bar is None else "n/a" if met is None else "yes" if met else "NO"
        values = [_num(r.metrics.get(name)) for r in results.values()]
        rows.append([name, *values, "" if bar is None else f">= {bar:.2f}", verdict])
    _table(console, "Metrics per split (tune on dev; test is held out)", heads, rows)
    for name, result in results.items():
        sentiment = result.parts.get("sentiment")
        if sentiment and sentiment.confusion:
            confusion = sentiment.confusion
            grid = [[gold, *(str(n) for n in c.values())] for gold, c in confusion.items()]
            heads = ["", *next(iter(confusion.values()))]
            _table(console, f"Sentiment confusion on {name} (rows: expected)", heads, grid)
    for role in ("sentiment", "entities"):
        if any(role in r.reliability for r in results.values()):
            heads = ["confidence", *(f"{n} {h}" for n in results for h in ("count", "accuracy"))]
            console.print(f"Reliability of {role} confidence (share right per bucket):")
            _table(console, "", heads, _reliability_rows(results, role))
    held = results[held_out]
    if held.met:
        console.print(
            f"targets met on {held_out}: {sum(held.met.values())} of {len(held.met)}",
            highlight=False,
        )
    console.print(
        "every row and summary of one split: --split " + " or --split ".join(results),
        highlight=False,
    )


def run_gates(
    result: EvalResult,
    min_score: float | None,
    baseline: str | None,
    tolerance: float,
    as_json: bool,
) -> None:
    """Judge ``result``; print the verdicts; exit 1 when any gate fails."""
    from eightflow.cli.console import fail, out
    from eightflow.errors import WorkflowError
    from eightflow.evaluation.gates import baseline_score, check_baseline, check_min_score

    checks = []
    if min_score is not None:
        checks.extend(check_min_score(result, min_score))
    if baseline is not None:
        try:
            checks.extend(check_baseline(result, baseline_score(baseline), tolerance))
        except WorkflowError as exc:
            fail(str(exc))
    if as_json:
        data = json.loads(result.model_dump_json())
        data["gates"] = [c.model_dump() for c in checks]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        out.print(f"eval id: {result.eval_id}")
        for check in checks:
            colour, verdict = ("green", "pass") if check.passed else ("red", "FAIL")
            out.print(
                f"[{colour}]{check.gate}: {verdict}[/{colour}] {check.message}", highlight=False
            )
    failed = [c for c in checks if not c.passed]
    if failed:
        if not as_json:
            out.print(f"[red]{len(failed)} of {len(checks)} gate checks failed[/red]")
        raise typer.Exit(1)


def run_compare(
    dataset: Path,
    variants: tuple[str, str],
    kind: EvalKind,
    workflow: str,
    options: dict[str, Any],
    out_dir: Path,
    as_json: bool,
) -> None:
    """Score two variants on one set; a side-by-side table and a bar chart."""
    from eightflow.cli.console import err, out
    from eightflow.evaluation.gates import compare, comparison_rows, plot_comparison, variant_label

    results = compare(dataset, variants, task=kind.name, workflow=workflow, **options)
    chart: Path | None = None
    try:
        chart = plot_comparison(results, out_dir / f"compare_{kind.name}.png")
    except ImportError as exc:
        err.print(f"[yellow]no chart: {exc}[/yellow]")
    if as_json:
        variants_out = [
            {
                "variant": v,
                "eval_id": r.eval_id,
                "prompt": r.prompt,
                "model": r.model,
                "metrics": r.metrics,
            }
            for v, r in zip(variants, results, strict=True)
        ]
        data = {"variants": variants_out, "chart": str(chart) if chart else None}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    a, b = results
    heads = ["metric", f"A: {variant_label(a)}", f"B: {variant_label(b)}", "B - A"]
    _table(
        out,
        f"{kind.name} on {dataset.name}, {a.rows} {'documents' if a.parts else 'rows'}",
        heads,
        comparison_rows(results),
    )
    out.print(
        f"eval ids: A {a.eval_id}, B {b.eval_id} (in the ledger: `eightflow report --by prompt`)"
    )
    if chart:
        out.print(f"Chart: {chart}")


def _workflow_reader(cls: Any) -> Reader:
    def read(path: Path) -> str:
        """The document as the workflow itself reads a path (its loaders)."""
        document = cls.inputs_from_path(str(path)).get("document")
        return str(getattr(document, "text", document))

    return read


def eval_command(
    workflow: Annotated[str, typer.Argument(help="The workflow whose prompt is scored.")],
    dataset: Annotated[
        Path,
        typer.Argument(
            help="CSV: text,label (sentiment), text,expected_entities or text,gist "
            "(summary); or a folder of real documents with manifest.csv (examples/eval/real)."
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
        float | None,
        typer.Option(
            help="Exit non-zero if the main metric (on a real-document set: any targeted "
            "metric) is below this."
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="Eval id to compare with: exit non-zero on a drop of a gated metric."),
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
    split: Annotated[
        str | None,
        typer.Option(
            help="A real-document set with a 'split' column: score only 'dev' (where rules "
            "and thresholds may be tuned) or 'test' (held out). Default: both, side by "
            "side, and --min-score/--baseline judge test."
        ),
    ] = None,
) -> None:
    """Score a workflow's prompt and a model on a labelled set; keep scores in the ledger.

    The set is a labelled CSV or a folder of real documents (manifest.csv). With
    --min-score or --baseline it is a gate (exit 1 when it fails); with --compare it scores
    two prompt versions or models on the same set.
    """
    from eightflow.cli.console import fail, out
    from eightflow.errors import WorkflowError
    from eightflow.evaluation import evaluate, kind_for
    from eightflow.evaluation.real_set import is_real_set, splits_of
    from eightflow.registry import load_workflow

    try:
        kind = kind_for(dataset, split)
        cls = load_workflow(workflow)
        used = cls().definition.prompt_ids()
        missing = [p for p, _ in kind.roles().values() if p not in used]
        if missing:
            fail(
                f"workflow '{workflow}' does not use the prompts {', '.join(missing)} that "
                f"{dataset.name} scores (it uses: {', '.join(used) or 'none'})"
            )
        options: dict[str, Any] = {
            "model": model,
            "prompt_ref": str(prompt_version) if prompt_version is not None else None,
            "reader": _workflow_reader(cls),
        }
        if compare:
            if split is not None:
                fail("--split does not combine with --compare (it scores the whole set)")
            run_compare(dataset, compare, kind, workflow, options, out_dir, as_json)
            return
        both = split is None and is_real_set(dataset) and len(splits_of(dataset)) > 1
        if both:
            results = {
                name: evaluate(dataset, workflow=workflow, split=name, **options)
                for name in splits_of(dataset)
            }
        else:
            result = evaluate(dataset, workflow=workflow, split=split, **options)
    except WorkflowError as exc:
        fail(str(exc))
        return
    gated = min_score is not None or baseline is not None
    if both:
        if as_json and not gated:
            data = {name: json.loads(r.model_dump_json()) for name, r in results.items()}
            sys.stdout.write(json.dumps({"splits": data}, indent=2) + "\n")
        elif not as_json:
            print_splits(results, out)
        if gated:  # the gates judge the held-out split
            run_gates(list(results.values())[-1], min_score, baseline, tolerance, as_json)
        return
    if as_json and not gated:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    elif not as_json:
        print_result(result, out)
    if gated:  # prints the verdicts (in the JSON with --json); exit 1 if one fails
        run_gates(result, min_score, baseline, tolerance, as_json)


def register(app: typer.Typer) -> None:
    """Add ``eval`` to the ``eightflow`` app."""
    app.command("eval")(eval_command)
