"""Scoring a prompt and model on a labelled CSV: ``eightflow eval``.

The task is read from the CSV header:

* ``text,label`` is **sentiment** (prompt ``sentiment``): accuracy, with precision and
  recall per label and a confusion table ``{expected: {predicted: count}}``.
* ``text,expected_entities`` is **entities** (prompt ``entities``): micro precision,
  recall and F1 over ``(text, type)`` pairs, compared case-insensitively, with surrounding
  punctuation, repeated spaces and a leading "the" ignored. ``expected_entities`` holds
  ``text|type`` pairs separated by ``;`` (empty: the row has none).

Every row is a real model call through :class:`eightflow.gateway.ModelGateway` (litellm;
the default model is the settings' default, the embedded one offline), at most 8 at a
time and never served from the response cache. Each metric becomes one row of the
ledger's ``evals`` table, so scores can be compared across prompt versions and models.
"""

from __future__ import annotations

import asyncio
import csv
import re
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from eightflow.errors import ModelError, WorkflowError

if TYPE_CHECKING:
    from eightflow.prompts import Prompt
    from eightflow.store.ledger import Ledger

Task = Literal["sentiment", "entities"]

SENTIMENT_LABELS: tuple[str, ...] = ("positive", "negative", "neutral")
ENTITY_TYPES: tuple[str, ...] = (
    "person",
    "organization",
    "place",
    "date",
    "amount",
    "email",
    "url",
)
HEADERS: dict[str, tuple[str, str]] = {
    "sentiment": ("text", "label"),
    "entities": ("text", "expected_entities"),
}
PRIMARY_METRIC: dict[str, str] = {"sentiment": "accuracy", "entities": "f1"}
CONCURRENCY = 8

_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = " \t\n.,;:!?\"'()[]{}“”‘’"


class EvaluationError(WorkflowError):
    """The dataset or the prompt cannot be evaluated; the message says why and where."""


class EvalRow(BaseModel):
    """One dataset row: what was expected, what the model answered."""

    row: int = Field(description="1-based data row (the header is row 0).")
    text: str
    expected: str | list[tuple[str, str]]
    predicted: str | list[tuple[str, str]] | None = None
    correct: bool = False
    score: float | None = Field(default=None, description="The sentiment score, if any.")
    tp: int | None = None
    fp: int | None = None
    fn: int | None = None
    error: str | None = None


class EvalResult(BaseModel):
    """The numbers of one evaluation, with every row's prediction."""

    eval_id: str
    workflow: str | None
    dataset: str
    dataset_path: str
    task: Task
    prompt: str
    model: str
    rows: int
    metric: str
    value: float | None
    metrics: dict[str, float | None]
    per_label: dict[str, dict[str, float | int | None]] = Field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = Field(default_factory=dict)
    errors: int = 0
    cost_usd: float | None = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    duration_ms: float = 0.0
    predictions: list[EvalRow] = Field(default_factory=list)


# -- the dataset ---------------------------------------------------------------------------


def detect_task(header: list[str] | None, path: Path | str = "dataset") -> Task:
    """The task a CSV header describes; an EvaluationError naming both layouts otherwise."""
    columns = {c.strip().lower() for c in header or [] if c}
    found: list[Task] = []
    if set(HEADERS["sentiment"]) <= columns:
        found.append("sentiment")
    if set(HEADERS["entities"]) <= columns:
        found.append("entities")
    if len(found) != 1:
        raise EvaluationError(
            f"{path}: cannot tell the task from the header {sorted(columns)}; expected the "
            "columns text,label (sentiment) or text,expected_entities (entities)"
        )
    return found[0]


def normalize_entity(text: str) -> str:
    """Case, spacing, surrounding punctuation and a leading "the" do not matter."""
    flat = _SPACES.sub(" ", text).strip(_EDGE_PUNCT).casefold()
    if flat.startswith("the "):
        flat = flat[4:].strip(_EDGE_PUNCT)
    return flat


def parse_expected_entities(cell: str, where: str = "") -> list[tuple[str, str]]:
    """``"Ada Lovelace|person;Acme|organization"`` as sorted unique normalized pairs."""
    pairs: set[tuple[str, str]] = set()
    for item in (cell or "").split(";"):
        if not item.strip():
            continue
        text, sep, kind = item.rpartition("|")
        kind = kind.strip().lower()
        if not sep or not text.strip():
            raise EvaluationError(f"{where}: '{item.strip()}' is not a 'text|type' pair")
        if kind not in ENTITY_TYPES:
            raise EvaluationError(
                f"{where}: unknown entity type '{kind}' (known: {', '.join(ENTITY_TYPES)})"
            )
        pairs.add((normalize_entity(text), kind))
    return sorted(pairs)


def load_dataset(path: Path | str) -> tuple[Task, list[tuple[str, Any]]]:
    """``(task, [(text, expected), ...])`` from a CSV; every problem names its row."""
    path = Path(path)
    if not path.is_file():
        raise EvaluationError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        task = detect_task(list(reader.fieldnames or []), path)
        text_col, expected_col = _columns(list(reader.fieldnames or []), task)
        rows: list[tuple[str, Any]] = []
        for number, record in enumerate(reader, start=1):
            where = f"{path} row {number}"
            text = (record.get(text_col) or "").strip()
            if not text:
                raise EvaluationError(f"{where}: empty text")
            cell = record.get(expected_col) or ""
            if task == "sentiment":
                label = cell.strip().lower()
                if label not in SENTIMENT_LABELS:
                    raise EvaluationError(
                        f"{where}: label '{cell}' is not one of {', '.join(SENTIMENT_LABELS)}"
                    )
                rows.append((text, label))
            else:
                rows.append((text, parse_expected_entities(cell, where)))
    if not rows:
        raise EvaluationError(f"{path}: no data rows")
    return task, rows


def _columns(fieldnames: list[str], task: str) -> tuple[str, str]:
    by_lower = {name.strip().lower(): name for name in fieldnames if name}
    text, expected = HEADERS[task]
    return by_lower[text], by_lower[expected]


# -- the metrics ---------------------------------------------------------------------------


def _div(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def sentiment_metrics(
    rows: list[EvalRow],
) -> tuple[dict[str, float | None], dict[str, dict[str, float | int | None]], dict[str, Any]]:
    """Accuracy, per-label precision/recall, and the confusion table (errors as "error")."""
    labels = list(SENTIMENT_LABELS)
    columns = [*labels, "error"] if any(r.predicted is None for r in rows) else labels
    confusion = {gold: dict.fromkeys(columns, 0) for gold in labels}
    for row in rows:
        confusion[str(row.expected)][str(row.predicted or "error")] += 1
    metrics: dict[str, float | None] = {
        "accuracy": sum(r.correct for r in rows) / len(rows) if rows else None
    }
    per_label: dict[str, dict[str, float | int | None]] = {}
    for label in labels:
        hits = confusion[label][label]
        predicted = sum(confusion[gold][label] for gold in labels)
        support = sum(confusion[label].values())
        precision, recall = _div(hits, predicted), _div(hits, support)
        per_label[label] = {
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
            "support": support,
        }
        metrics[f"precision_{label}"] = precision
        metrics[f"recall_{label}"] = recall
    return metrics, per_label, confusion


def entity_metrics(
    rows: list[EvalRow],
) -> tuple[dict[str, float | None], dict[str, dict[str, float | int | None]]]:
    """Micro precision/recall/F1 over all pairs, and the same per entity type."""
    tp = sum(r.tp or 0 for r in rows)
    fp = sum(r.fp or 0 for r in rows)
    fn = sum(r.fn or 0 for r in rows)
    precision, recall = _div(tp, tp + fp), _div(tp, tp + fn)
    metrics: dict[str, float | None] = {
        "f1": _f1(precision, recall),
        "precision": precision,
        "recall": recall,
    }
    counts: dict[str, Counter[str]] = {kind: Counter() for kind in ENTITY_TYPES}
    for row in rows:
        expected = set(row.expected) if isinstance(row.expected, list) else set()
        predicted = set(row.predicted) if isinstance(row.predicted, list) else set()
        for _, kind in expected & predicted:
            counts[kind]["tp"] += 1
        for _, kind in predicted - expected:
            counts[kind]["fp"] += 1
        for _, kind in expected - predicted:
            counts[kind]["fn"] += 1
    per_type: dict[str, dict[str, float | int | None]] = {}
    for kind, c in counts.items():
        p, r = _div(c["tp"], c["tp"] + c["fp"]), _div(c["tp"], c["tp"] + c["fn"])
        per_type[kind] = {
            "precision": p,
            "recall": r,
            "f1": _f1(p, r),
            "support": c["tp"] + c["fn"],
        }
        if c["tp"] + c["fn"]:
            metrics[f"f1_{kind}"] = _f1(p, r) if p is not None else 0.0
    return metrics, per_type


# -- running -------------------------------------------------------------------------------


def _resolve_prompt(gateway: Any, task: str, prompt_ref: str | None) -> Prompt:
    """``None`` is the task's newest prompt; ``"2"``/``"v2"`` a version of it; else a ref."""
    ref = task
    if prompt_ref:
        bare = prompt_ref.strip().lstrip("v@")
        ref = f"{task}@v{bare}" if bare.isdigit() else prompt_ref.strip()
    prompt: Prompt = gateway.prompts.get(ref)
    schema = prompt.output_schema
    needed = "label" if task == "sentiment" else "entities"
    if schema is None or needed not in schema.model_fields:
        raise EvaluationError(
            f"prompt '{prompt.ref}' cannot be scored as {task}: its output schema has no "
            f"'{needed}' field"
        )
    return prompt


async def evaluate_async(
    dataset_path: Path | str,
    model: str | None = None,
    prompt_ref: str | None = None,
    *,
    workflow: str | None = None,
    ledger: Ledger | None = None,
    record: bool = True,
) -> EvalResult:
    """:func:`evaluate`, for callers already in an event loop."""
    from eightflow.gateway import ModelGateway

    path = Path(dataset_path)
    task, data = load_dataset(path)
    gateway = ModelGateway(model=model)
    prompt = _resolve_prompt(gateway, task, prompt_ref)
    chosen = gateway.resolve_model(prompt, None)
    gate = asyncio.Semaphore(CONCURRENCY)
    spend: list[tuple[float | None, int, int]] = []
    t0 = time.perf_counter()

    async def score(number: int, text: str, expected: Any) -> EvalRow:
        row = EvalRow(row=number, text=text, expected=expected)
        async with gate:
            try:
                answer = await gateway.complete(prompt, text)
            except ModelError as exc:
                row.error = str(exc)
                if task == "entities":
                    row.tp, row.fp, row.fn = 0, 0, len(expected)
                return row
        spend.append((answer.cost_usd, answer.tokens_in, answer.tokens_out))
        output = answer.output
        if task == "sentiment":
            row.predicted = str(output.label)
            row.score = getattr(output, "score", None)
            row.correct = row.predicted == expected
        else:
            predicted = sorted(
                {
                    (normalize_entity(e.text), str(e.type))
                    for e in output.entities
                    if normalize_entity(e.text)
                }
            )
            row.predicted = predicted
            gold, got = set(expected), set(predicted)
            row.tp, row.fp, row.fn = len(gold & got), len(got - gold), len(gold - got)
            row.correct = gold == got
        return row

    predictions = list(
        await asyncio.gather(*(score(i, text, exp) for i, (text, exp) in enumerate(data, 1)))
    )
    errors = [r for r in predictions if r.error]
    if len(errors) == len(predictions):
        raise EvaluationError(
            f"every row of {path.name} failed on {chosen} with {prompt.ref}; first error: "
            f"{errors[0].error}"
        )
    per_label: dict[str, dict[str, float | int | None]]
    confusion: dict[str, dict[str, int]] = {}
    if task == "sentiment":
        metrics, per_label, confusion = sentiment_metrics(predictions)
    else:
        metrics, per_label = entity_metrics(predictions)
    costs = [c for c, _, _ in spend]
    result = EvalResult(
        eval_id=uuid.uuid4().hex[:16],
        workflow=workflow,
        dataset=path.name,
        dataset_path=str(path.resolve()),
        task=task,
        prompt=prompt.ref,
        model=chosen,
        rows=len(predictions),
        metric=PRIMARY_METRIC[task],
        value=metrics[PRIMARY_METRIC[task]],
        metrics=metrics,
        per_label=per_label,
        confusion=confusion,
        errors=len(errors),
        cost_usd=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
        tokens_in=sum(t for _, t, _ in spend),
        tokens_out=sum(t for _, _, t in spend),
        duration_ms=(time.perf_counter() - t0) * 1000,
        predictions=predictions,
    )
    if record:
        _record(result, ledger)
    return result


def evaluate(
    dataset_path: Path | str,
    model: str | None = None,
    prompt_ref: str | None = None,
    *,
    workflow: str | None = None,
    ledger: Ledger | None = None,
    record: bool = True,
) -> EvalResult:
    """Score ``model`` (default: the settings' model) with the task's prompt on a CSV.

    ``prompt_ref`` pins the prompt: ``"2"`` or ``"v2"`` is that version of the task's
    prompt, anything else a full ``id@vN`` reference. One ``evals`` row per metric is
    written to ``ledger`` (default: the ledger under EIGHTFLOW_HOME) unless ``record`` is
    False.
    """
    return asyncio.run(
        evaluate_async(
            dataset_path, model, prompt_ref, workflow=workflow, ledger=ledger, record=record
        )
    )


def _record(result: EvalResult, ledger: Ledger | None) -> None:
    from eightflow.store.ledger import default_ledger

    target = ledger or default_ledger()
    for metric, value in result.metrics.items():
        if value is None:
            continue
        target.record_eval(
            {
                "eval_id": result.eval_id,
                "workflow": result.workflow,
                "dataset": result.dataset,
                "task": result.task,
                "prompt": result.prompt,
                "model": result.model,
                "metric": metric,
                "value": value,
                "rows": result.rows,
            }
        )
