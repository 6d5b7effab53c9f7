"""Sentiment and entity measures: a constant or empty answer must score low."""

from __future__ import annotations

import pytest

from eightflow.evaluation import EvalRow, normalize_entity, parse_expected_entities
from eightflow.evaluation.measures import entity_metrics, majority_baseline, sentiment_metrics

LABELS = ["positive", "positive", "negative", "neutral"]


def _sentiment_rows(expected: list[str], predicted: list[str | None]) -> list[EvalRow]:
    return [
        EvalRow(row=i, text=f"t{i}", expected=e, predicted=p, correct=e == p)
        for i, (e, p) in enumerate(zip(expected, predicted, strict=True), 1)
    ]


@pytest.mark.parametrize(
    ("predicted", "accuracy", "macro_recall", "recall_negative"),
    [
        (LABELS, 1.0, 1.0, 1.0),  # every answer right
        (["positive"] * 4, 0.5, 1 / 3, 0.0),  # constant majority: accuracy = the baseline
        (["neutral"] * 4, 0.25, 1 / 3, 0.0),  # constant minority: below the baseline
        (["negative", "negative", "positive", "positive"], 0.0, 0.0, 0.0),  # all wrong
        ([None, None, None, None], 0.0, 0.0, 0.0),  # every call failed
    ],
)
def test_sentiment_accuracy_sits_beside_its_majority_baseline(
    predicted: list[str | None], accuracy: float, macro_recall: float, recall_negative: float
) -> None:
    metrics, per_label, confusion = sentiment_metrics(_sentiment_rows(LABELS, predicted))
    assert metrics["accuracy"] == pytest.approx(accuracy)
    assert metrics["majority_baseline"] == pytest.approx(0.5)
    assert metrics["macro_recall"] == pytest.approx(macro_recall)
    assert metrics["recall_negative"] == pytest.approx(recall_negative)
    assert per_label["positive"]["support"] == 2
    assert sum(sum(row.values()) for row in confusion.values()) == 4


@pytest.mark.parametrize(
    ("expected", "baseline"),
    [(["neutral"] * 66, 1.0), (LABELS, 0.5), (["positive", "negative"], 0.5), ([], None)],
)
def test_majority_baseline(expected: list[str], baseline: float | None) -> None:
    assert majority_baseline(expected) == baseline


def test_a_set_of_one_label_gives_a_constant_a_perfect_score() -> None:
    """Why the baseline is printed: on an all-neutral set "neutral" scores 1.0."""
    metrics, _, _ = sentiment_metrics(_sentiment_rows(["neutral"] * 3, ["neutral"] * 3))
    assert metrics["accuracy"] == metrics["majority_baseline"] == 1.0
    assert metrics["recall_positive"] is None and metrics["recall_negative"] is None


GOLD = (
    "Ada Lovelace|person;Acme|organization;Oslo|place;ada@example.org|email;https://a.example|url"
)


def _entity_row(predicted: str) -> EvalRow:
    gold = parse_expected_entities(GOLD)
    got = parse_expected_entities(predicted)
    row = EvalRow(row=1, text="t", expected=gold, predicted=got)
    row.tp = len(set(gold) & set(got))
    row.fp, row.fn = len(set(got) - set(gold)), len(set(gold) - set(got))
    return row


@pytest.mark.parametrize(
    ("predicted", "precision", "recall", "prose_f1"),
    [
        (GOLD, 1.0, 1.0, 1.0),
        # Only the shapes (URL, email): perfect precision hides a zero on prose.
        ("ada@example.org|email;https://a.example|url", 1.0, 0.4, 0.0),
        # Every capitalised word as a person: prose precision falls.
        ("Ada Lovelace|person;Acme|person;Oslo|person", 1 / 3, 0.2, 1 / 3),
        ("", None, 0.0, 0.0),  # nothing found
    ],
)
def test_prose_entities_are_scored_apart_from_urls_and_emails(
    predicted: str, precision: float | None, recall: float, prose_f1: float
) -> None:
    metrics, per_type, _ = entity_metrics([_entity_row(predicted)])
    assert metrics["precision"] == (None if precision is None else pytest.approx(precision))
    assert metrics["recall"] == pytest.approx(recall)
    assert metrics["prose_f1"] == pytest.approx(prose_f1)
    assert per_type["person"]["support"] == 1 and per_type["url"]["support"] == 1


def test_per_type_scores() -> None:
    metrics, per_type, _ = entity_metrics([_entity_row("Ada Lovelace|person;Acme|person")])
    assert per_type["person"] == {
        "precision": 0.5,
        "recall": 1.0,
        "f1": pytest.approx(2 / 3),
        "support": 1,
    }
    assert per_type["organization"]["recall"] == 0.0
    assert metrics["f1_person"] == pytest.approx(2 / 3) and metrics["f1_url"] == 0.0
    assert "f1_amount" not in metrics  # no amount expected


def test_entity_normalization() -> None:
    assert normalize_entity("  The  World Health\nOrganization. ") == "world health organization"
    assert normalize_entity("$1,250.00") == "$1,250.00"
    assert normalize_entity("(Acme Inc.)") == "acme inc"
    assert parse_expected_entities("Bob|person; bob |PERSON;;Acme|organization") == [
        ("acme", "organization"),
        ("bob", "person"),
    ]
    assert parse_expected_entities("") == []
