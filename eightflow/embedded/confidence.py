"""How sure the embedded model is of an answer, derived from its own scores.

The analysis schemas carry a ``confidence`` in [0, 1] that a review rule can test (hosted
models report it in the schema themselves). The embedded model has no probabilities, so
it derives one from what it does compute:

- **sentiment**: the distance of VADER's compound score from the cut-offs of its label.
  A polar label is 0.5 confident at the cut-off (|score| = 0.05) rising to 1.0 at
  |score| >= 0.5; a neutral label is 1.0 at score 0 falling to 0.5 at a cut-off. So a
  barely-positive or barely-neutral document is the least certain.
- **entities**: how reliable the rule that found the entity's type is. Pattern-matched
  types (URLs, emails, dates, amounts) start at 0.95; names found by capitalisation and
  lists (people, organisations, places) at 0.7, each further mention adding 0.05 up to 0.9.
"""

from __future__ import annotations

from typing import Any

from eightflow.embedded.sentiment import NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD

__all__ = ["entity_confidence", "sentiment_confidence", "with_confidence"]

SATURATION = 0.5  # |compound| from which a polar label is fully confident
PATTERN_TYPES = frozenset({"url", "email", "date", "amount"})


def sentiment_confidence(score: float) -> float:
    """Confidence in the label VADER's compound ``score`` maps to."""
    magnitude = abs(score)
    if score >= POSITIVE_THRESHOLD or score <= NEGATIVE_THRESHOLD:
        cutoff = POSITIVE_THRESHOLD if score > 0 else -NEGATIVE_THRESHOLD
        margin = min(1.0, (magnitude - cutoff) / (SATURATION - cutoff))
    else:
        cutoff = POSITIVE_THRESHOLD if score >= 0 else -NEGATIVE_THRESHOLD
        margin = 1.0 - magnitude / cutoff
    return round(0.5 + 0.5 * max(0.0, margin), 3)


def entity_confidence(entity_type: str, count: int = 1) -> float:
    """Confidence that an entity of this type, seen ``count`` times, is one."""
    if entity_type in PATTERN_TYPES:
        return 0.95
    return round(min(0.9, 0.7 + 0.05 * max(0, count - 1)), 3)


def with_confidence(task: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer to ``task`` with its confidence added (other tasks unchanged)."""
    if task == "sentiment" and "score" in answer:
        answer = {k: v for k, v in answer.items() if k != "basis"}
        return {**answer, "confidence": sentiment_confidence(float(answer["score"]))}
    if task == "entities":
        entities = [
            {**e, "confidence": entity_confidence(str(e.get("type")), int(e.get("count", 1)))}
            for e in answer.get("entities", [])
        ]
        return {**answer, "entities": entities}
    return answer
