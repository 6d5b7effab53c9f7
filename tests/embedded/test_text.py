"""Sentence splitting and word helpers shared by the embedded tasks."""

from __future__ import annotations

import pytest

from eightflow.embedded.text import STOPWORDS, clip, count_tokens_approx, split_sentences, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \n\t ", []),
        ("One sentence without a stop", ["One sentence without a stop"]),
        (
            "Mr. Smith met Dr. Jones at Acme Inc. on Monday. They talked.",
            ["Mr. Smith met Dr. Jones at Acme Inc. on Monday.", "They talked."],
        ),
        (
            "Revenue rose 3.5 percent to $1.2 billion. Costs fell.",
            ["Revenue rose 3.5 percent to $1.2 billion.", "Costs fell."],
        ),
        (
            "She moved to the U.S. The move was hard.",
            ["She moved to the U.S.", "The move was hard."],
        ),
        ("Tools e.g. Python and i.e. Rust. Done.", ["Tools e.g. Python and i.e. Rust.", "Done."]),
        ("J. R. R. Tolkien wrote it. Fans agree!", ["J. R. R. Tolkien wrote it.", "Fans agree!"]),
        ("Is it true? Yes! Really.", ["Is it true?", "Yes!", "Really."]),
        (
            "# Results\nSales grew fast\n\n- first point\n- second point\n1. numbered item",
            ["Results", "Sales grew fast", "first point", "second point", "numbered item"],
        ),
        (
            "This paragraph is hard wrapped at a fairly normal width of about seventy\n"
            "characters and continues on the next line.",
            [
                "This paragraph is hard wrapped at a fairly normal width of about seventy "
                "characters and continues on the next line."
            ],
        ),
        ("Key Findings\nThe plan worked.", ["Key Findings", "The plan worked."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("... !!! ???", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_sentences_handles_windows_newlines_and_long_input() -> None:
    text = "First line here.\r\nSecond line here.\r\n" * 2000
    sentences = split_sentences(text)
    assert len(sentences) == 4000
    assert sentences[:2] == ["First line here.", "Second line here."]


def test_words_are_lowercased_and_keep_inner_apostrophes() -> None:
    assert words("Don't STOP the café, 3.5 times!") == [
        "don't",
        "stop",
        "the",
        "café",
        "3",
        "5",
        "times",
    ]
    assert words("") == []


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("one", 2), ("a b c d e f g h i j", 13)])
def test_count_tokens_approx(text: str, tokens: int) -> None:
    assert count_tokens_approx(text) == tokens


def test_clip_cuts_on_a_word_boundary() -> None:
    assert clip("short text", 300) == "short text"
    clipped = clip("word " * 100, 50)
    assert len(clipped) <= 50
    assert clipped.endswith("…")
    assert "wor…" not in clipped


def test_stopwords_are_lowercase_function_words() -> None:
    assert {"the", "and", "of", "is"} <= STOPWORDS
    assert "revenue" not in STOPWORDS
    assert all(w == w.lower() for w in STOPWORDS)
