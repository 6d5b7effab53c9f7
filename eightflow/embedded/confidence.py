"""How sure the embedded model is of an answer: its own scores, calibrated on dev.

The analysis schemas carry a ``confidence`` in [0, 1] that a review rule can test (hosted
models report it in the schema themselves). The embedded model has no probabilities. It
computes a raw score, then maps it through the table of :mod:`.calibration` (fit on the
dev split of ``examples/eval/real`` by ``scripts/calibrate_embedded.py``) to the share of
such answers that were right there:

- **sentiment**, raw: the distance of VADER's compound score from its label's cut-offs.
  A polar label is 0.5 at the cut-off (|score| = 0.05) rising to 1.0 at |score| >= 0.5; a
  neutral label is 1.0 at score 0 falling to 0.5 at a cut-off. Calibrated per kind of
  answer: the rule that decided it (:data:`.sentiment.BASES`) and whether it is polar.
- **entities**, raw: how reliable the rule that found the entity's type is. Pattern-matched
  types (URLs, emails, dates, amounts) start at 0.95; names found by capitalisation and
  lists (people, organisations, places) at 0.7, each further mention adding 0.05 up to 0.9.
  Calibrated per type, over the number of mentions (capped at :data:`MENTIONS_CAP`).

A kind of answer the table does not hold keeps its raw score.
"""

from __future__ import annotations

from typing import Any

from eightflow.embedded.calibration import calibrated
from eightflow.embedded.sentiment import NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD, label_for

__all__ = [
    "MENTIONS_CAP",
    "entity_confidence",
    "raw_entity_confidence",
    "raw_sentiment_confidence",
    "sentiment_confidence",
    "sentiment_group",
    "with_confidence",
]

SATURATION = 0.5  # |compound| from which a polar label is fully confident
PATTERN_TYPES = frozenset({"url", "email", "date", "amount"})
#: Entities are calibrated by mentions 1, 2, ... up to this (more count as this many).
MENTIONS_CAP = 3


def raw_sentiment_confidence(score: float, label: str | None = None) -> float:
    """The raw confidence in ``label`` (by default, the label ``score`` maps to)."""
    label = label or label_for(score)
    magnitude = abs(score)
    if label != "neutral":
        cutoff = POSITIVE_THRESHOLD if label == "positive" else -NEGATIVE_THRESHOLD
        toward = score if label == "positive" else -score  # a genre label may be against
        margin = min(1.0, (toward - cutoff) / (SATURATION - cutoff))
    else:
        cutoff = POSITIVE_THRESHOLD if score >= 0 else -NEGATIVE_THRESHOLD
        margin = 1.0 - magnitude / cutoff
    return round(0.5 + 0.5 * max(0.0, margin), 3)


def sentiment_group(label: str, basis: str) -> str:
    """The kind of a sentiment answer the calibration table is kept by ("genre-polar")."""
    return f"{basis}-{'neutral' if label == 'neutral' else 'polar'}"


def sentiment_confidence(score: float, label: str | None = None, basis: str | None = None) -> float:
    """Confidence in a sentiment answer: calibrated when its ``basis`` is known."""
    label = label or label_for(score)
    raw = raw_sentiment_confidence(score, label)
    if basis is None:
        return raw
    found = calibrated("sentiment", sentiment_group(label, basis), raw)
    return raw if found is None else found


def raw_entity_confidence(entity_type: str, count: int = 1) -> float:
    """The raw confidence that an entity of this type, seen ``count`` times, is one."""
    if entity_type in PATTERN_TYPES:
        return 0.95
    return round(min(0.9, 0.7 + 0.05 * max(0, count - 1)), 3)


def entity_confidence(entity_type: str, count: int = 1) -> float:
    """Confidence that an entity of this type, seen ``count`` times, is one (calibrated)."""
    found = calibrated("entities", entity_type, float(min(max(count, 1), MENTIONS_CAP)))
    return raw_entity_confidence(entity_type, count) if found is None else found


def with_confidence(task: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer to ``task`` with its confidence added (other tasks unchanged);
    a sentiment answer's ``basis`` is used here and not passed on."""
    if task == "sentiment" and "score" in answer:
        basis = answer.get("basis")
        answer = {k: v for k, v in answer.items() if k != "basis"}
        confidence = sentiment_confidence(
            float(answer["score"]), answer.get("label"), None if basis is None else str(basis)
        )
        return {**answer, "confidence": confidence}
    if task == "entities":
        entities = [
            {**e, "confidence": entity_confidence(str(e.get("type")), int(e.get("count", 1)))}
            for e in answer.get("entities", [])
        ]
        return {**answer, "entities": entities}
    return answer
