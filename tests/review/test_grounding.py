"""Grounding: answers that invent entities, figures or names are caught; faithful ones pass."""

from __future__ import annotations

import pytest

from eightflow.review.grounding import check_answer, normalize

DOCUMENT = """Harbour Lane Holdings reported revenue of $1,200,000 for Q3 2024, up 3.5% on the
year. Chief executive Maria Okafor said the Dunmore plant reopened on 14 March.
Contact: investors@harbour-lane.example. The board, chaired by J. R. Whitfield, met twice."""


@pytest.mark.parametrize(
    ("answer", "grounded", "reason_has"),
    [
        # entities: quoted text must occur, normalised for case, punctuation, whitespace
        ({"entities": [{"text": "Maria Okafor", "type": "person"}]}, True, ""),
        ({"entities": [{"text": "maria   OKAFOR", "type": "person"}]}, True, ""),
        ({"entities": [{"text": "Harbour-Lane Holdings", "type": "organization"}]}, True, ""),
        ({"entities": [{"text": "J.R. Whitfield", "type": "person"}]}, True, ""),
        ({"entities": [{"text": "R. J. Whitfield", "type": "person"}]}, False, "Whitfield"),
        ({"entities": [{"text": "Globex Corporation", "type": "organization"}]}, False, "Globex"),
        ({"entities": [{"text": "Okafo", "type": "person"}]}, False, "Okafo"),  # word boundary
        ({"entities": [{"text": "[REDACTED]", "type": "email"}]}, True, ""),
        # summaries: figures and proper names must occur; paraphrase is fine
        ({"summary": "Revenue reached $1.2m... no."}, False, "1.2"),
        ({"summary": "Revenue was $1200000 in Q3 2024, up 3.5%."}, True, ""),
        ({"summary": "Revenue grew 4.5% in the third quarter."}, False, "4.5"),
        ({"summary": "Revenue grew 3.50% on the year."}, True, ""),
        ({"summary": "The chief executive, Maria Okafor, praised the Dunmore plant."}, True, ""),
        ({"summary": "The chief executive, John Smith, praised the plant."}, False, "John Smith"),
        ({"summary": "Harbour Lane Holdings did well."}, True, ""),
        ({"summary": "Acme Holdings did well."}, False, "Acme Holdings"),
        ({"summary": "Revenue rose. Profits fell."}, True, ""),  # sentence openers
        ({"key_points": ["Plant reopened on 14 March", "Board met in 2019"]}, False, "2019"),
        # keyphrases loosely, topic labels not at all
        (
            {"topics": ["Finance"], "keyphrases": [{"phrase": "plants reopening", "score": 1}]},
            True,
            "",
        ),
        (
            {"topics": ["x"], "keyphrases": [{"phrase": "quantum blockchain", "score": 1}]},
            False,
            "quantum",
        ),
        # labels and scores are not claims about the text
        ({"label": "positive", "score": 0.4, "confidence": 0.9}, True, ""),
    ],
)
def test_answers_are_checked_against_their_document(
    answer: dict, grounded: bool, reason_has: str
) -> None:
    result = check_answer(answer, DOCUMENT)
    assert result.grounded is grounded, result.reasons
    if not grounded:
        assert reason_has in result.reason
        assert result.reason.startswith("ungrounded: ")


def test_plain_text_answers_are_read_as_prose() -> None:
    assert check_answer("Maria Okafor reopened the Dunmore plant.", DOCUMENT).grounded
    assert not check_answer("Maria Okafor reopened the Leeds plant.", DOCUMENT).grounded


def test_a_word_inside_a_token_is_not_a_name() -> None:
    document = "Our office is at 3 Trafford Wharf Road, Manchester M17 1EX."
    assert check_answer({"summary": "The office is in Manchester M17 1EX."}, document).grounded
    assert not check_answer({"summary": "The office is in Leeds M17 1EX."}, document).grounded


def test_normalize_folds_case_unicode_and_punctuation() -> None:
    assert normalize("Ａcme,  Inc.") == " acme inc "


def test_reasons_are_capped_and_unique() -> None:
    answer = {"entities": [{"text": f"Nobody {i}", "type": "person"} for i in range(20)]}
    result = check_answer(answer, DOCUMENT)
    assert not result.grounded and len(result.reasons) == 5


def _corpus() -> list[tuple[str, str]]:
    """Every text document the project ships: the example folder and the real eval set."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "examples"
    paths = [
        *sorted((root / "documents").glob("*.txt")),
        *sorted((root / "documents").glob("*.md")),
        *sorted((root / "eval" / "real").rglob("*.txt")),
        *sorted((root / "eval" / "real").rglob("*.md")),
    ]
    return [(p.name, p.read_text(encoding="utf-8", errors="replace")) for p in paths]


@pytest.mark.parametrize("task", ["summarization", "entities", "topic_extraction", "faq_extraction",
                                  "action_items"])  # fmt: skip
def test_the_embedded_models_extractive_answers_are_grounded_by_construction(task: str) -> None:
    from eightflow.embedded.engine import EmbeddedModel

    model = EmbeddedModel()
    corpus = _corpus()
    assert len(corpus) >= 10
    ungrounded = {}
    for name, text in corpus:
        result = check_answer(model.respond(task, text), text)
        if not result.grounded:
            ungrounded[name] = result.reasons
    assert not ungrounded, ungrounded
