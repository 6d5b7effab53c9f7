"""The embedded model's confidence, derived from its own scores."""

from __future__ import annotations

import pytest

from eightflow.embedded.confidence import entity_confidence, sentiment_confidence
from eightflow.embedded.engine import EmbeddedModel


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0.0, 1.0),  # squarely neutral
        (0.025, 0.75),  # halfway to the positive cut-off
        (-0.049, 0.51),  # barely neutral
        (0.05, 0.5),  # barely positive: the least certain
        (-0.05, 0.5),
        (0.275, 0.75),  # halfway to saturation
        (-0.5, 1.0),
        (0.97, 1.0),
    ],
)
def test_sentiment_confidence(score: float, expected: float) -> None:
    assert sentiment_confidence(score) == pytest.approx(expected, abs=0.001)


@pytest.mark.parametrize(
    ("entity_type", "count", "expected"),
    [
        ("email", 1, 0.95),
        ("date", 3, 0.95),
        ("person", 1, 0.7),
        ("place", 3, 0.8),
        ("organization", 9, 0.9),
    ],
)
def test_entity_confidence(entity_type: str, count: int, expected: float) -> None:
    assert entity_confidence(entity_type, count) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "label", "low", "high"),
    [
        ("What a wonderful, brilliant, happy day. We loved every minute.", "positive", 0.9, 1.0),
        ("The meeting is on Tuesday in room 4.", "neutral", 0.9, 1.0),
        ("The service was fine, though a little slow.", None, 0.0, 0.9),
    ],
)
def test_embedded_answers_carry_confidence(
    text: str, label: str | None, low: float, high: float
) -> None:
    answer = EmbeddedModel().respond("sentiment", text)
    assert low <= answer["confidence"] <= high
    assert answer["confidence"] == sentiment_confidence(answer["score"])
    if label:
        assert answer["label"] == label


def test_entities_carry_confidence() -> None:
    answer = EmbeddedModel().respond(
        "entities", "Mail ana@example.org about Ana Lopez on 3 May 2024."
    )
    by_type = {e["type"]: e["confidence"] for e in answer["entities"]}
    assert by_type["email"] == 0.95 and by_type["date"] == 0.95
