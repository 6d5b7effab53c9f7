"""The embedded model's confidence: raw scores, mapped through the dev calibration."""

from __future__ import annotations

import pytest

from eightflow.embedded.calibration import calibrated
from eightflow.embedded.confidence import (
    entity_confidence,
    raw_entity_confidence,
    raw_sentiment_confidence,
    sentiment_confidence,
    sentiment_group,
)
from eightflow.embedded.engine import EmbeddedModel
from eightflow.embedded.sentiment import analyze_sentiment


@pytest.mark.parametrize(
    ("score", "label", "expected"),
    [
        (0.0, None, 1.0),  # squarely neutral
        (0.025, None, 0.75),  # halfway to the positive cut-off
        (-0.049, None, 0.51),  # barely neutral
        (0.05, None, 0.5),  # barely positive: the least certain
        (-0.05, None, 0.5),
        (0.275, None, 0.75),  # halfway to saturation
        (-0.5, None, 1.0),
        (0.97, None, 1.0),
        (0.1, "negative", 0.5),  # a genre label against its score: the least certain
        (0.0, "positive", 0.5),
    ],
)
def test_raw_sentiment_confidence(score: float, label: str | None, expected: float) -> None:
    assert raw_sentiment_confidence(score, label) == pytest.approx(expected, abs=0.001)
    assert sentiment_confidence(score, label) == raw_sentiment_confidence(score, label)


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
def test_raw_entity_confidence(entity_type: str, count: int, expected: float) -> None:
    assert raw_entity_confidence(entity_type, count) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("entity_type", "count", "table_count"),
    [("email", 1, 1.0), ("person", 2, 2.0), ("organization", 9, 3.0)],
)
def test_entity_confidence_is_the_calibrated_accuracy(
    entity_type: str, count: int, table_count: float
) -> None:
    expected = calibrated("entities", entity_type, table_count)
    assert expected is not None  # the shipped table holds every entity type seen on dev
    assert entity_confidence(entity_type, count) == expected


def test_a_kind_the_table_lacks_keeps_its_raw_score() -> None:
    assert entity_confidence("spaceship", 2) == raw_entity_confidence("spaceship", 2)
    assert sentiment_confidence(0.3, "positive", "no-such-rule") == raw_sentiment_confidence(0.3)


@pytest.mark.parametrize(
    "text",
    [
        "What a wonderful, brilliant, happy day. We loved every minute.",
        "The meeting is on Tuesday in room 4.",
        "BUGS\nThe parser is slow. Options given twice are merged. Output order varies.",
    ],
)
def test_embedded_sentiment_answers_carry_calibrated_confidence(text: str) -> None:
    answer = EmbeddedModel().respond("sentiment", text)
    raw = analyze_sentiment(text)
    assert "basis" not in answer  # the deciding rule is used, not passed on
    expected = sentiment_confidence(raw["score"], raw["label"], raw["basis"])
    assert answer["confidence"] == expected
    assert 0.0 <= answer["confidence"] <= 1.0


def test_calibrated_sentiment_is_what_dev_saw_for_that_rule() -> None:
    raw = analyze_sentiment("BUGS\nThe parser is slow. Options given twice are merged.")
    group = sentiment_group(raw["label"], raw["basis"])
    assert group == "genre-polar"
    seen = calibrated("sentiment", group, raw_sentiment_confidence(raw["score"], raw["label"]))
    assert seen is not None and seen < 1.0  # shrunk: a handful of documents prove little


def test_entities_carry_confidence() -> None:
    answer = EmbeddedModel().respond(
        "entities", "Mail ana@example.org about Ana Lopez on 3 May 2024."
    )
    by_type = {e["type"]: e["confidence"] for e in answer["entities"]}
    assert by_type["email"] == entity_confidence("email", 1)
    assert by_type["date"] == entity_confidence("date", 1)
