"""Extractive TextRank summaries: verbatim sentences, original order, bounded cost."""

from __future__ import annotations

import random

import pytest

from eightflow.embedded import summarize
from eightflow.embedded.summarize import textrank
from eightflow.embedded.text import split_sentences

ARTICLE = """Solar power capacity grew faster than any other energy source last year.
Cheaper solar panels and better battery storage made solar power competitive with coal.
Utilities now pair solar farms with battery storage to deliver power after sunset.
My neighbour's cat sleeps on the sofa all afternoon.
Analysts expect solar capacity to double again as panel prices keep falling.
Grid operators warn that storage and transmission must grow with solar capacity.
Some regions already curtail solar power at noon because the grid cannot absorb it.
Battery storage costs fell by half in five years, according to industry data.
The weather was pleasant on Tuesday.
Governments offer tax credits that make solar panels and battery storage cheaper still.
Critics say subsidies distort the energy market and favour large solar farms.
Overall, solar power and battery storage are reshaping how grids deliver energy."""


def _numbered(count: int) -> str:
    topics = ["rivers", "markets", "engines", "forests", "servers", "harbors", "gardens"]
    return " ".join(
        f"Sentence {i} talks about {topics[i % len(topics)]} and shared systems."
        for i in range(count)
    )


def test_summary_sentences_are_verbatim_and_in_original_order() -> None:
    result = summarize(ARTICLE)
    sentences = split_sentences(ARTICLE)
    positions = [sentences.index(point) for point in result["key_points"]]
    assert len(positions) == 3
    assert positions == sorted(positions)
    assert result["summary"] == " ".join(result["key_points"])


def test_central_sentences_win_and_off_topic_ones_lose() -> None:
    points = summarize(ARTICLE)["key_points"]
    assert all("solar" in p.lower() or "battery" in p.lower() for p in points)
    assert not any("cat" in p or "weather" in p for p in points)


@pytest.mark.parametrize(
    ("sentences", "max_sentences", "expected"),
    [(1, 3, 1), (3, 3, 1), (5, 3, 2), (8, 3, 2), (12, 3, 3), (40, 5, 5), (12, 1, 1), (12, 0, 1)],
)
def test_number_of_sentences_scales_with_length(
    sentences: int, max_sentences: int, expected: int
) -> None:
    text = _numbered(sentences)
    assert len(split_sentences(text)) == sentences
    assert len(summarize(text, max_sentences=max_sentences)["key_points"]) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "!!! ...", None])
def test_empty_input_gives_an_empty_summary(text: str) -> None:
    assert summarize(text) == {"summary": "", "key_points": []}


def test_single_sentence_is_its_own_summary() -> None:
    text = "  The board approved the merger on Friday.  "
    assert summarize(text) == {
        "summary": "The board approved the merger on Friday.",
        "key_points": ["The board approved the merger on Friday."],
    }


def test_headings_are_not_picked_when_real_sentences_exist() -> None:
    text = "# Report\n\n" + ARTICLE
    assert "Report" not in summarize(text)["key_points"]


def test_key_points_are_capped_at_300_characters() -> None:
    giant = "The committee reviewed " + ", ".join(f"item {i}" for i in range(400)) + "."
    result = summarize(giant)
    assert len(result["key_points"]) == 1
    assert len(result["key_points"][0]) <= 300
    assert result["key_points"][0].endswith("…")


def test_ties_are_broken_by_position() -> None:
    text = (
        "Alpha bravo charlie delta. Echo foxtrot golf hotel. "
        "India juliet kilo lima. Mike november oscar papa."
    )
    # a four-word sentence is too short a summary alone: the next tie joins it
    expected = ["Alpha bravo charlie delta.", "Echo foxtrot golf hotel."]
    assert summarize(text)["key_points"] == expected


def test_textrank_scores_a_distribution_and_favours_the_hub() -> None:
    bags = [
        frozenset({"solar", "battery", "grid"}),
        frozenset({"solar", "panel"}),
        frozenset({"battery", "cost"}),
        frozenset({"grid", "operator"}),
        frozenset({"cat", "sofa"}),
    ]
    scores = textrank(bags)
    assert sum(scores) == pytest.approx(1.0)
    assert max(range(5), key=scores.__getitem__) == 0
    assert scores[4] == min(scores)
    assert textrank([]) == []


def test_repeated_sentences_are_picked_once() -> None:
    result = summarize((ARTICLE + "\n\n") * 30)
    assert len(result["key_points"]) == 3
    assert len(set(result["key_points"])) == 3


def test_deterministic() -> None:
    assert summarize(ARTICLE) == summarize(ARTICLE)


def test_long_document_stays_bounded() -> None:
    rng = random.Random(3)
    vocab = [
        "market",
        "revenue",
        "growth",
        "product",
        "service",
        "policy",
        "energy",
        "climate",
        "data",
        "risk",
        "cloud",
    ]
    sentences = [
        " ".join(rng.choice(vocab) for _ in range(rng.randint(8, 20))).capitalize() + "."
        for _ in range(1500)
    ]
    text = " ".join(sentences)
    assert len(text) > 100_000
    result = summarize(text)  # how fast: bench/embedded.py
    assert len(result["key_points"]) == 3
    assert all(point in sentences for point in result["key_points"])


LIBRARY_MANUAL = """GNU Libtasn1 Reference Manual

[Function]
    int asn1_read_value (asn1_node root, const char *name, void *ivalue, int *len);

HELP: this section is incomplete, send corrections.

Libtasn1 is a library that parses ASN.1 definitions and encodes and decodes DER data.
It is used by GnuTLS to read certificates and keys.
Most programs only need the structure functions described in this chapter.
"""


def test_a_titled_document_opens_with_its_title_and_first_informative_sentence() -> None:
    result = summarize(LIBRARY_MANUAL)
    assert result["summary"].startswith("GNU Libtasn1 Reference Manual: Libtasn1 is a library")
    assert result["key_points"][0].startswith("Libtasn1 is a library")
    assert not any("asn1_read_value" in p or "HELP" in p for p in result["key_points"])


def test_navigation_and_code_are_never_key_points() -> None:
    page = (
        "Skip to content\n\n- About this documentation\n- Usage and example\n\n"
        "Node.js v20 documentation\n\nUsage and example\n\n"
        "An example of a web server written with Node.js which responds with a greeting.\n\n"
        "const server = http.createServer((req, res) => {\n  res.end('Hello');\n});\n\n"
        "Save the file and run it with node to start the server on port 3000.\n"
    )
    points = summarize(page)["key_points"]
    assert points and points[0].startswith("An example of a web server")
    assert not any("createServer" in p or "Skip to content" in p for p in points)


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        # contribution lines have no subject: quoting them would credit one person's work
        # to another, so the summary says whom the file thanks
        (
            "Thanks to:\n\nJane Doe <jane@example.org>\n\t* Wrote the parser.\n\n"
            "John Smith <john@example.org>\n\t* Ported the build to the new system.\n\n"
            "Ada Example <ada@example.org>\n\t* Provided the test suite and its fixtures.\n",
            "Thanks to: Jane Doe, John Smith and Ada Example.",
        ),
        # a name list with prose of its own: the prose, never a lone name
        (
            "Thanks\n======\n\nSome people helped more, some less, but everyone's help "
            "mattered. :-)\n  - Ada Example\n  - Ben Sample\n  - Cy Person\n  - Dee Name\n",
            "Some people helped more, some less, but everyone's help mattered. :-)",
        ),
    ],
)
def test_credit_lists_are_summarized_without_misattribution(text: str, summary: str) -> None:
    assert summarize(text)["summary"] == summary


def test_more_than_five_credited_names_are_counted_not_listed() -> None:
    names = ["Ada Lovelace", "Ben Franklin", "Cy Twombly", "Dee Snider", "Eva Perón", "Fay Weldon"]
    text = "Credits:\n" + "".join(f"{n} <{n.split()[0].lower()}@example.org>\n" for n in names)
    summary = summarize(text)["summary"]
    expected = "Credits: Ada Lovelace, Ben Franklin, Cy Twombly, Dee Snider, Eva Perón and 1 more."
    assert summary == expected


def test_a_short_summary_takes_one_more_sentence() -> None:
    text = (
        "Widget is a library. It draws charts from tables of numbers in a few lines of code. "
        "Widget needs Python 3.9. Install it with pip from the package index today."
    )
    points = summarize(text)["key_points"]
    assert len(points) == 2
    assert points[0] == "Widget is a library."
