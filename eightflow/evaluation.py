"""Scoring a prompt and model on a labelled CSV: ``eightflow eval``.

The task is read from the CSV header, matched against the registered task kinds
(:data:`TASK_KINDS`, extended with :func:`register_task_kind`). Two are built in:

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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from eightflow.errors import ModelError, WorkflowError

if TYPE_CHECKING:
    from eightflow.prompts import Prompt
    from eightflow.store.ledger import Ledger

Task = str
"""The name of a registered task kind (``sentiment``, ``entities``, ...)."""

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
    task: str
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
    """The task a CSV header describes; an EvaluationError naming every layout otherwise."""
    columns = {c.strip().lower() for c in header or [] if c}
    found = [name for name, kind in TASK_KINDS.items() if set(kind.columns) <= columns]
    if len(found) != 1:
        layouts = " or ".join(f"{','.join(k.columns)} ({n})" for n, k in TASK_KINDS.items())
        raise EvaluationError(
            f"{path}: cannot tell the task from the header {sorted(columns)}; expected the "
            f"columns {layouts}"
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
            rows.append((text, TASK_KINDS[task].parse_expected(cell, where)))
    if not rows:
        raise EvaluationError(f"{path}: no data rows")
    return task, rows


def _columns(fieldnames: list[str], task: str) -> tuple[str, str]:
    by_lower = {name.strip().lower(): name for name in fieldnames if name}
    text, expected = TASK_KINDS[task].columns
    return by_lower[text], by_lower[expected]


def _parse_label(cell: str, where: str) -> str:
    label = cell.strip().lower()
    if label not in SENTIMENT_LABELS:
        raise EvaluationError(
            f"{where}: label '{cell}' is not one of {', '.join(SENTIMENT_LABELS)}"
        )
    return label


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
) -> tuple[dict[str, float | None], dict[str, dict[str, float | int | None]], dict[str, Any]]:
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
    return metrics, per_type, {}


# -- the task kinds --------------------------------------------------------------------------


def _score_label(row: EvalRow, output: Any) -> None:
    row.predicted = str(output.label)
    row.score = getattr(output, "score", None)
    row.correct = row.predicted == row.expected


def _score_entities(row: EvalRow, output: Any) -> None:
    predicted = sorted(
        {
            (normalize_entity(e.text), str(e.type))
            for e in output.entities
            if normalize_entity(e.text)
        }
    )
    row.predicted = predicted
    gold, got = set(row.expected), set(predicted)
    row.tp, row.fp, row.fn = len(gold & got), len(got - gold), len(gold - got)
    row.correct = gold == got


def _failed_entities(row: EvalRow) -> None:
    row.tp, row.fp, row.fn = 0, 0, len(row.expected)


Metrics = tuple[dict[str, float | None], dict[str, dict[str, float | int | None]], dict[str, Any]]


@dataclass(frozen=True)
class TaskKind:
    """How to score one kind of labelled dataset.

    ``columns`` are the header's (text, expected) columns, which identify the kind;
    ``parse_expected(cell, where)`` reads one expected cell; ``field`` is the output-schema
    field the prompt must have; ``score(row, output)`` fills a row's prediction;
    ``on_error(row)`` fills a row whose call failed; ``metrics(rows)`` returns
    ``(metrics, per_label, confusion)``, of which ``primary`` names the headline metric.
    The prompt is the one named ``prompt`` (default: the kind's name).
    """

    name: str
    columns: tuple[str, str]
    field: str
    primary: str
    parse_expected: Callable[[str, str], Any]
    score: Callable[[EvalRow, Any], None]
    metrics: Callable[[list[EvalRow]], Metrics]
    on_error: Callable[[EvalRow], None] = lambda row: None
    prompt: str = ""


TASK_KINDS: dict[str, TaskKind] = {}


def register_task_kind(kind: TaskKind) -> None:
    """Make ``kind`` a task ``eightflow eval`` recognises by its header."""
    TASK_KINDS[kind.name] = kind


register_task_kind(
    TaskKind(
        name="sentiment",
        columns=("text", "label"),
        field="label",
        primary="accuracy",
        parse_expected=_parse_label,
        score=_score_label,
        metrics=sentiment_metrics,
    )
)
register_task_kind(
    TaskKind(
        name="entities",
        columns=("text", "expected_entities"),
        field="entities",
        primary="f1",
        parse_expected=parse_expected_entities,
        score=_score_entities,
        metrics=entity_metrics,
        on_error=_failed_entities,
    )
)


# -- running -------------------------------------------------------------------------------


def _resolve_prompt(gateway: Any, task: str, prompt_ref: str | None) -> Prompt:
    """``None`` is the task's newest prompt; ``"2"``/``"v2"`` a version of it; else a ref."""
    kind = TASK_KINDS[task]
    ref = kind.prompt or task
    if prompt_ref:
        bare = prompt_ref.strip().lstrip("v@")
        ref = f"{ref}@v{bare}" if bare.isdigit() else prompt_ref.strip()
    prompt: Prompt = gateway.prompts.get(ref)
    schema = prompt.output_schema
    needed = kind.field
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
    kind = TASK_KINDS[task]
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
                kind.on_error(row)
                return row
        spend.append((answer.cost_usd, answer.tokens_in, answer.tokens_out))
        kind.score(row, answer.output)
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
    metrics, per_label, confusion = kind.metrics(predictions)
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
        metric=kind.primary,
        value=metrics[kind.primary],
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
