"""Labelled-CSV kinds of the evaluator: one prompt call per row.

The kind is read from the CSV header, matched against the registered task kinds
(:data:`TASK_KINDS`, extended with :func:`register_task_kind`). Two are built in:

* ``text,label`` is **sentiment** (prompt ``sentiment``): accuracy beside the majority
  baseline, precision and recall per label, macro recall and a confusion table
  ``{expected: {predicted: count}}`` (:func:`eightflow.evaluation.measures.sentiment_metrics`).
* ``text,expected_entities`` is **entities** (prompt ``entities``): micro precision,
  recall and F1 over ``(text, type)`` pairs, per type and over the prose types
  (:func:`eightflow.evaluation.measures.entity_metrics`). ``expected_entities`` holds
  ``text|type`` pairs separated by ``;`` (empty: the row has none; a ``\\``, ``|`` or
  ``;`` in a text is escaped with a backslash, :mod:`eightflow.evaluation.entity_cell`).
* ``text,gist`` is **summary** (prompt ``summarization``): the mean ROUGE-L F1 of each
  summary against its labelled gist, and the shares of summaries clean of markup, menus
  and code and within length (:mod:`eightflow.evaluation.summary_checks`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eightflow.evaluation.entity_cell import decode_entity_pairs
from eightflow.evaluation.measures import (
    Metrics,
    entity_metrics,
    normalize_entity,
    sentiment_metrics,
)
from eightflow.evaluation.results import (
    ENTITY_TYPES,
    SENTIMENT_LABELS,
    EvalResult,
    EvalRow,
    EvaluationError,
)
from eightflow.evaluation.summary_checks import (
    is_clean,
    rouge_l_f1,
    summary_problems,
    within_length,
)
from eightflow.safety.inert import csv_value

Task = str
"""The name of a registered task kind (``sentiment``, ``entities``, ...)."""


@dataclass(frozen=True)
class TaskKind:
    """How to score one kind of labelled CSV.

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

    @property
    def prompt_id(self) -> str:
        return self.prompt or self.name

    def roles(self) -> dict[str, tuple[str, str]]:
        """The evaluator's view: one role, the kind itself, with its prompt and field."""
        return {self.name: (self.prompt_id, self.field)}

    def load(self, path: Path, reader: Any = None) -> list[tuple[str, str, Any]]:
        """``[(name, text, expected), ...]``: a CSV row's text is both name and input."""
        _, rows = load_dataset(path)
        return [(text, text, expected) for text, expected in rows]

    def assemble(
        self, cases: list[tuple[str, str, Any]], answers: list[dict[str, Any]], head: Any
    ) -> EvalResult:
        """Score every row's answer and build the result (``head``: the common fields)."""
        rows: list[EvalRow] = []
        for number, ((_, text, expected), answer) in enumerate(zip(cases, answers, strict=True), 1):
            row = EvalRow(row=number, text=text, expected=expected)
            output, error = answer[self.name]
            if error is not None:
                row.error = error
                self.on_error(row)
            else:
                self.score(row, output)
            rows.append(row)
        metrics, per_label, confusion = self.metrics(rows)
        return EvalResult(
            **head,
            task=self.name,
            prompt=head["prompts"][self.name],
            rows=len(rows),
            metric=self.primary,
            value=metrics[self.primary],
            metrics=metrics,
            per_label=per_label,
            confusion=confusion,
            errors=sum(1 for r in rows if r.error),
            predictions=rows,
        )


TASK_KINDS: dict[str, TaskKind] = {}


def register_task_kind(kind: TaskKind) -> None:
    """Make ``kind`` a task ``eightflow eval`` recognises by its header."""
    TASK_KINDS[kind.name] = kind


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


def parse_expected_entities(cell: str, where: str = "") -> list[tuple[str, str]]:
    """``"Ada Lovelace|person;Acme|organization"`` as sorted unique normalized pairs (the
    cell's codec: :mod:`eightflow.evaluation.entity_cell`)."""
    pairs: set[tuple[str, str]] = set()
    for text, kind in decode_entity_pairs(cell, where):
        kind = kind.strip().lower()
        if kind not in ENTITY_TYPES:
            raise EvaluationError(
                f"{where}: unknown entity type '{kind}' (known: {', '.join(ENTITY_TYPES)})"
            )
        pairs.add((normalize_entity(text), kind))
    return sorted(pairs)


def parse_label(cell: str, where: str) -> str:
    """One sentiment label, case-insensitively; an error naming the row otherwise."""
    label = cell.strip().lower()
    if label not in SENTIMENT_LABELS:
        raise EvaluationError(
            f"{where}: label '{cell}' is not one of {', '.join(SENTIMENT_LABELS)}"
        )
    return label


def load_dataset(path: Path | str) -> tuple[Task, list[tuple[str, Any]]]:
    """``(task, [(text, expected), ...])`` from a CSV; every problem names its row."""
    path = Path(path)
    if not path.is_file():
        raise EvaluationError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fieldnames = list(reader.fieldnames or [])
        task = detect_task(fieldnames, path)
        by_lower = {name.strip().lower(): name for name in fieldnames if name}
        text_col, expected_col = (by_lower[c] for c in TASK_KINDS[task].columns)
        rows: list[tuple[str, Any]] = []
        for number, record in enumerate(reader, start=1):
            where = f"{path} row {number}"
            # Cells as written by csv_cell (review export, results.csv): a leading quote
            # that kept a spreadsheet from reading a formula is not part of the value.
            text = csv_value(record.get(text_col) or "").strip()
            if not text:
                raise EvaluationError(f"{where}: empty text")
            cell = csv_value(record.get(expected_col) or "")
            rows.append((text, TASK_KINDS[task].parse_expected(cell, where)))
    if not rows:
        raise EvaluationError(f"{path}: no data rows")
    return task, rows


def score_label(row: EvalRow, output: Any) -> None:
    """A sentiment answer: its label (and score) against the expected label."""
    row.predicted = str(output.label)
    row.score = getattr(output, "score", None)
    row.correct = row.predicted == row.expected


def score_entities(row: EvalRow, output: Any, key: Callable[[str], str] = normalize_entity) -> None:
    """An entities answer: its ``(key(text), type)`` pairs against the expected ones."""
    got = {(key(e.text), str(e.type)) for e in output.entities}
    predicted = sorted(pair for pair in got if pair[0])
    row.predicted = predicted
    gold, found = {tuple(p) for p in row.expected}, set(predicted)
    row.tp, row.fp, row.fn = len(gold & found), len(found - gold), len(gold - found)
    row.correct = gold == found


def failed_entities(row: EvalRow) -> None:
    """A failed call finds nothing: every expected entity is missed."""
    row.tp, row.fp, row.fn = 0, 0, len(row.expected)


def parse_gist(cell: str, where: str) -> str:
    """A labelled gist: any non-empty text."""
    if not cell.strip():
        raise EvaluationError(f"{where}: empty gist")
    return " ".join(cell.split())


def score_summary_row(row: EvalRow, output: Any) -> None:
    """A summary: ROUGE-L F1 against the gist; right when no summary check objects."""
    row.predicted = str(output.summary)
    row.score = rouge_l_f1(row.predicted, str(row.expected))
    row.correct = not summary_problems(row.predicted)


def summary_metrics(rows: list[EvalRow]) -> Metrics:
    """Mean ROUGE-L F1 against the gists (failed calls score 0), clean and short shares."""
    problems = [summary_problems(str(r.predicted or "")) for r in rows]
    n = len(rows)
    metrics: dict[str, float | None] = {
        "rouge_l": sum(r.score or 0.0 for r in rows) / n if n else None,
        "clean": sum(map(is_clean, problems)) / n if n else None,
        "within_length": sum(map(within_length, problems)) / n if n else None,
    }
    return metrics, {}, {}


register_task_kind(
    TaskKind(
        name="sentiment",
        columns=("text", "label"),
        field="label",
        primary="accuracy",
        parse_expected=parse_label,
        score=score_label,
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
        score=score_entities,
        metrics=entity_metrics,
        on_error=failed_entities,
    )
)
register_task_kind(
    TaskKind(
        name="summary",
        columns=("text", "gist"),
        field="summary",
        primary="rouge_l",
        parse_expected=parse_gist,
        score=score_summary_row,
        metrics=summary_metrics,
        prompt="summarization",
    )
)
