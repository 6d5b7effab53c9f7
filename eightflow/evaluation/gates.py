"""Evaluation as a gate and as a comparison: ``eightflow eval --min-score / --baseline /
--compare``, the same for every kind of labelled set.

- **Minimum score:** each gated metric of the result (the headline metric of a CSV kind:
  accuracy for sentiment, F1 for entities; every targeted metric with a value on a
  real-document set) must reach ``--min-score``; below it the command exits non-zero, so a
  CI job fails.
- **Baseline:** ``--baseline EVAL_ID`` reads a recorded evaluation from the ledger (an id
  or a unique prefix; ``eightflow eval --json`` prints it) and fails when a gated metric
  dropped by more than ``--tolerance`` against it. Both must have scored the same metrics
  of the same tasks.
- **Comparison:** ``--compare A B`` scores two variants on the same set and prints them
  side by side with a bar chart. A variant is a prompt reference (``sentiment@v1``) or a
  model string (``openai/gpt-4o-mini``). Both evaluations are recorded in the ledger, so
  ``eightflow report --by prompt`` lists their scores.

The scoring itself is :mod:`eightflow.evaluation.evaluator`'s; this module only judges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from eightflow.errors import WorkflowError
from eightflow.evaluation.evaluator import Reader, evaluate
from eightflow.evaluation.results import EvalResult
from eightflow.store.ledger import Ledger, default_ledger

DEFAULT_TOLERANCE = 0.02


class GateCheck(BaseModel):
    """One gate's verdict on one metric."""

    gate: str
    metric: str
    passed: bool
    observed: float | None
    threshold: float | None
    message: str


def check_min_score(result: EvalResult, min_score: float) -> list[GateCheck]:
    """One verdict per gated metric: at least ``min_score``."""
    checks = []
    for metric in result.gated_metrics():
        value = result.metrics.get(metric)
        passed = value is not None and value >= min_score
        checks.append(
            GateCheck(
                gate="min_score",
                metric=metric,
                passed=passed,
                observed=value,
                threshold=min_score,
                message=f"{metric} {_fmt(value)} {'>=' if passed else '<'} {min_score} "
                f"({result.prompt_of(metric)} on {result.model}, {result.dataset})",
            )
        )
    return checks


def baseline_score(eval_id: str, ledger: Ledger | None = None) -> dict[str, Any]:
    """The recorded evaluation ``eval_id`` (a unique prefix will do): its metrics, and
    the task each was filed under."""
    ledger = ledger or default_ledger()
    rows = ledger.query(
        "SELECT DISTINCT eval_id FROM evals WHERE eval_id = ? OR eval_id LIKE ?",
        (eval_id, f"{eval_id}%"),
    )
    if len(rows) != 1:
        found = "no evaluation" if not rows else f"{len(rows)} evaluations"
        raise WorkflowError(f"--baseline: {found} in {ledger.path} match '{eval_id}'")
    full = rows[0]["eval_id"]
    metrics = ledger.query("SELECT * FROM evals WHERE eval_id = ?", (full,))
    return {
        "eval_id": full,
        **metrics[0],
        "metrics": {m["metric"]: m["value"] for m in metrics},
        "tasks": {m["metric"]: m["task"] for m in metrics},
    }


def check_baseline(
    result: EvalResult, baseline: dict[str, Any], tolerance: float = DEFAULT_TOLERANCE
) -> list[GateCheck]:
    """One verdict per gated metric: no drop larger than ``tolerance`` against it."""
    tasks = baseline.get("tasks") or dict.fromkeys(baseline["metrics"], baseline["task"])
    gated = result.gated_metrics()
    shared = [m for m in gated if m in tasks]
    if not shared or any(tasks[m] != result.task_of(m) for m in shared):
        scored = ", ".join(sorted(set(tasks.values())))
        raise WorkflowError(
            f"--baseline {baseline['eval_id']} scored {scored}, this set is "
            f"{result.task}: they cannot be compared"
        )
    checks = []
    for metric in gated:
        before, now = baseline["metrics"].get(metric), result.metrics.get(metric)
        drop = None if before is None or now is None else before - now
        passed = drop is not None and drop <= tolerance
        checks.append(
            GateCheck(
                gate="baseline",
                metric=metric,
                passed=passed,
                observed=now,
                threshold=None if before is None else before - tolerance,
                message=f"{metric} {_fmt(now)} vs baseline {_fmt(before)} "
                f"({baseline['prompt']} on {baseline['model']}, eval {baseline['eval_id']}): "
                + (
                    "no comparable score"
                    if drop is None
                    else f"{'drop' if drop > 0 else 'change'} {abs(drop):.4f}, "
                    f"tolerance {tolerance}"
                ),
            )
        )
    return checks


def parse_variant(task: str, variant: str) -> dict[str, str | None]:
    """``sentiment@v2`` / ``v2`` is a prompt version; anything else is a model string."""
    text = variant.strip()
    if text.startswith(f"{task}@") or (text.lstrip("v").isdigit() and text):
        return {"prompt_ref": text, "model": None}
    if "@v" in text and "/" not in text:
        return {"prompt_ref": text, "model": None}
    return {"prompt_ref": None, "model": text}


def compare(
    dataset: Path | str,
    variants: tuple[str, str],
    *,
    task: str,
    workflow: str | None = None,
    model: str | None = None,
    prompt_ref: str | None = None,
    reader: Reader | None = None,
) -> list[EvalResult]:
    """Score both variants on the same set (each recorded in the ledger)."""
    results = []
    for variant in variants:
        chosen = parse_variant(task, variant)
        results.append(
            evaluate(
                dataset,
                model=chosen["model"] or model,
                prompt_ref=chosen["prompt_ref"] or prompt_ref,
                reader=reader,
                workflow=workflow,
            )
        )
    return results


def comparison_rows(results: list[EvalResult]) -> list[list[str]]:
    """Metric rows: name, A, B, B - A; per-label F1 rows follow for sentiment."""
    a, b = results
    rows = [
        [name, _fmt(a.metrics.get(name)), _fmt(b.metrics.get(name)), _delta(a, b, name)]
        for name in a.metrics
    ]
    for label in a.per_label:
        fa, fb = a.per_label[label].get("f1"), b.per_label.get(label, {}).get("f1")
        diff = None if fa is None or fb is None else float(fb) - float(fa)
        rows.append([f"f1[{label}]", _fmt(fa), _fmt(fb), _signed(diff)])
    return rows


def plot_comparison(results: list[EvalResult], path: Path | str) -> Path:
    """Grouped bars of each metric for the two variants (PNG, deterministic)."""
    from eightflow.observe.plots import _METADATA, _pyplot

    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [n for n in results[0].metrics if results[0].metrics[n] is not None]
    fig, ax = plt.subplots(figsize=(max(8, len(names) * 0.6), 4.5), dpi=100)
    try:
        width = 0.38
        for i, (result, colour) in enumerate(zip(results, ("#4c72b0", "#dd8452"), strict=True)):
            values = [result.metrics.get(n) or 0.0 for n in names]
            xs = [x + (i - 0.5) * width for x in range(len(names))]
            ax.bar(xs, values, width, label=variant_label(result), color=colour)
        ax.set_xticks(range(len(names)), names)
        if len(names) > 6:  # a real-document set's many metrics
            ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("score")
        ax.set_title(f"{results[0].task} on {results[0].dataset}")
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(path, metadata=_METADATA)
    finally:
        plt.close(fig)
    return path


def variant_label(result: EvalResult) -> str:
    return f"{result.prompt} / {result.model}"


def _delta(a: EvalResult, b: EvalResult, name: str) -> str:
    va, vb = a.metrics.get(name), b.metrics.get(name)
    return _signed(None if va is None or vb is None else vb - va)


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.4f}"


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{float(value):.4f}"
