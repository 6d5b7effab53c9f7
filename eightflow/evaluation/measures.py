"""Sentiment and entity measures that a constant answer cannot pass for a good one.

* **Sentiment:** accuracy, printed beside the **majority baseline** (the accuracy of always
  answering the most frequent expected label), per-label precision and recall, the
  **macro recall** (mean recall over the labels the set holds: a constant answer scores
  at most 1/labels), and the confusion table ``{expected: {predicted: count}}``.
* **Entities:** micro precision, recall and F1 over ``(text, type)`` pairs, the same per
  type, and the same over the **prose types** alone (person, organization, place, date,
  amount), so URLs and emails, found by their shape, cannot hide the types read from prose.

Entity texts compare by :func:`normalize_entity`: case, spacing, surrounding punctuation
and a leading "the" do not matter.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from eightflow.evaluation.results import ENTITY_TYPES, PROSE_ENTITY_TYPES, SENTIMENT_LABELS, EvalRow

Metrics = tuple[dict[str, float | None], dict[str, dict[str, float | int | None]], dict[str, Any]]
"""``(metrics, per label or type, confusion)``."""

_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = " \t\n.,;:!?\"'()[]{}“”‘’"


def normalize_entity(text: str) -> str:
    """Case, spacing, surrounding punctuation and a leading "the" do not matter."""
    flat = _SPACES.sub(" ", text).strip(_EDGE_PUNCT).casefold()
    if flat.startswith("the "):
        flat = flat[4:].strip(_EDGE_PUNCT)
    return flat


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``; None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def f1_score(precision: float | None, recall: float | None) -> float | None:
    """The harmonic mean of precision and recall (0.0 when both are 0)."""
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def majority_baseline(expected: list[str]) -> float | None:
    """The accuracy of answering the most frequent expected label every time."""
    if not expected:
        return None
    return Counter(expected).most_common(1)[0][1] / len(expected)


def sentiment_metrics(rows: list[EvalRow]) -> Metrics:
    """Accuracy and its majority baseline, per-label precision/recall, macro recall, and
    the confusion table (failed calls as "error")."""
    labels = list(SENTIMENT_LABELS)
    columns = [*labels, "error"] if any(r.predicted is None for r in rows) else labels
    confusion = {gold: dict.fromkeys(columns, 0) for gold in labels}
    for row in rows:
        confusion[str(row.expected)][str(row.predicted or "error")] += 1
    metrics: dict[str, float | None] = {
        "accuracy": sum(r.correct for r in rows) / len(rows) if rows else None,
        "majority_baseline": majority_baseline([str(r.expected) for r in rows]),
    }
    per_label: dict[str, dict[str, float | int | None]] = {}
    recalls: list[float] = []
    for label in labels:
        hits = confusion[label][label]
        predicted = sum(confusion[gold][label] for gold in labels)
        support = sum(confusion[label].values())
        precision, recall = ratio(hits, predicted), ratio(hits, support)
        per_label[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1_score(precision, recall),
            "support": support,
        }
        metrics[f"precision_{label}"] = precision
        metrics[f"recall_{label}"] = recall
        if recall is not None:
            recalls.append(recall)
    metrics["macro_recall"] = sum(recalls) / len(recalls) if recalls else None
    return metrics, per_label, confusion


def _pair_sets(row: EvalRow) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    expected = {tuple(p) for p in row.expected} if isinstance(row.expected, list) else set()
    predicted = {tuple(p) for p in row.predicted} if isinstance(row.predicted, list) else set()
    return expected, predicted  # type: ignore[return-value]


def entity_counts(rows: list[EvalRow]) -> dict[str, Counter[str]]:
    """``{type: Counter(tp=, fp=, fn=)}`` over every row's pairs."""
    counts: dict[str, Counter[str]] = {kind: Counter() for kind in ENTITY_TYPES}
    for row in rows:
        expected, predicted = _pair_sets(row)
        for outcome, pairs in (
            ("tp", expected & predicted),
            ("fp", predicted - expected),
            ("fn", expected - predicted),
        ):
            for _, kind in pairs:
                counts.setdefault(kind, Counter())[outcome] += 1
    return counts


def entity_metrics(rows: list[EvalRow]) -> Metrics:
    """Micro precision/recall/F1 over all pairs, over the prose types, and per type."""
    tp = sum(r.tp or 0 for r in rows)
    fp = sum(r.fp or 0 for r in rows)
    fn = sum(r.fn or 0 for r in rows)
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    metrics: dict[str, float | None] = {  # nothing found but something expected: F1 0
        "f1": f1_score(precision or 0.0, recall) if recall is not None else None,
        "precision": precision,
        "recall": recall,
    }
    counts = entity_counts(rows)
    per_type: dict[str, dict[str, float | int | None]] = {}
    for kind, c in counts.items():
        p, r = ratio(c["tp"], c["tp"] + c["fp"]), ratio(c["tp"], c["tp"] + c["fn"])
        per_type[kind] = {
            "precision": p,
            "recall": r,
            "f1": f1_score(p, r),
            "support": c["tp"] + c["fn"],
        }
        if c["tp"] + c["fn"]:
            metrics[f"f1_{kind}"] = f1_score(p, r) if p is not None else 0.0
    prose = Counter[str]()
    for kind in PROSE_ENTITY_TYPES:
        prose.update(counts[kind])
    if prose["tp"] + prose["fp"] + prose["fn"]:  # the set or the model has prose entities
        p = ratio(prose["tp"], prose["tp"] + prose["fp"])
        r = ratio(prose["tp"], prose["tp"] + prose["fn"])
        metrics["prose_precision"] = p
        metrics["prose_recall"] = r
        metrics["prose_f1"] = f1_score(p or 0.0, r or 0.0)
    return metrics, per_type, {}
