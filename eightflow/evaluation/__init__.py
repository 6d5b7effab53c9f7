"""Evaluation: one evaluator for every kind of labelled set (``eightflow eval``).

* :mod:`~eightflow.evaluation.evaluator`: the evaluator (:func:`evaluate`), how a set's
  kind is told (:func:`kind_for`), and how every result is recorded (:func:`record_result`).
* :mod:`~eightflow.evaluation.csv_kinds`: labelled CSVs (sentiment, entities, and kinds a
  plug-in registers with :func:`register_task_kind`).
* :mod:`~eightflow.evaluation.real_set`: folders of real documents with ``manifest.csv``.
* :mod:`~eightflow.evaluation.measures` and :mod:`~eightflow.evaluation.summary_checks`:
  the measures, built so a constant or degenerate answer scores low.
* :mod:`~eightflow.evaluation.gates`: ``--min-score``, ``--baseline`` and ``--compare``.
"""

from eightflow.evaluation.csv_kinds import (
    TASK_KINDS,
    TaskKind,
    detect_task,
    load_dataset,
    parse_expected_entities,
    register_task_kind,
)
from eightflow.evaluation.evaluator import evaluate, evaluate_async, kind_for, record_result
from eightflow.evaluation.measures import entity_metrics, normalize_entity, sentiment_metrics
from eightflow.evaluation.results import (
    CONCURRENCY,
    ENTITY_TYPES,
    SENTIMENT_LABELS,
    EvalResult,
    EvalRow,
    EvaluationError,
    SummaryRow,
)

__all__ = [
    "CONCURRENCY",
    "ENTITY_TYPES",
    "SENTIMENT_LABELS",
    "TASK_KINDS",
    "EvalResult",
    "EvalRow",
    "EvaluationError",
    "SummaryRow",
    "TaskKind",
    "detect_task",
    "entity_metrics",
    "evaluate",
    "evaluate_async",
    "kind_for",
    "load_dataset",
    "normalize_entity",
    "parse_expected_entities",
    "record_result",
    "register_task_kind",
    "sentiment_metrics",
]
