"""VADER sentiment with length-weighted sentence averaging."""

from __future__ import annotations

import socket

import pytest

from eightflow.embedded import analyze_sentiment, sentiment
from eightflow.embedded.sentiment import label_for


@pytest.mark.parametrize(
    "text",
    [
        "I love this phone. The camera is amazing and the battery lasts forever! Best buy ever.",
        "The staff were wonderful and friendly. Our room was spotless, and the view was beautiful.",
        "What a fantastic concert. The band was brilliant and the crowd was happy.",
    ],
)
def test_clearly_positive(text: str) -> None:
    result = analyze_sentiment(text)
    assert result["label"] == "positive"
    assert result["score"] > 0.3


@pytest.mark.parametrize(
    "text",
    [
        "This was the worst hotel I have ever stayed in. The room was dirty, the staff rude.",
        "The update is terrible. It crashes constantly, and support ignored my angry complaints.",
        "Awful food, horrible service, and a disgusting bathroom. Never again.",
    ],
)
def test_clearly_negative(text: str) -> None:
    result = analyze_sentiment(text)
    assert result["label"] == "negative"
    assert result["score"] < -0.3


@pytest.mark.parametrize(
    "text",
    [
        "The meeting is scheduled for Tuesday at 3 pm. The agenda includes the quarterly budget.",
        "Water boils at 100 degrees Celsius at sea level. The Earth orbits the Sun once a year.",
        "The report has four sections. Section two lists the suppliers by region.",
    ],
)
def test_neutral_factual_text(text: str) -> None:
    result = analyze_sentiment(text)
    assert result["label"] == "neutral"
    assert abs(result["score"]) < 0.05


@pytest.mark.parametrize("text", ["", "   ", "...", "12345", None])
def test_empty_is_neutral(text: str) -> None:
    assert analyze_sentiment(text) == {"label": "neutral", "score": 0.0, "basis": "lexicon"}


def test_long_documents_are_not_saturated() -> None:
    facts = "The committee reviewed the budget for the northern district in the afternoon. "
    text = facts * 40 + "We are absolutely thrilled, this is wonderful, amazing, fantastic news!"
    result = analyze_sentiment(text)
    assert 0.0 < result["score"] < 0.2
    whole = sentiment._get_analyzer().polarity_scores(text)["compound"]
    assert whole > 0.9  # what plain VADER would have said about the whole text


def test_weighting_follows_sentence_length() -> None:
    short_good = "Great!"
    long_bad = "The package arrived two weeks late and the box was damaged on one corner."
    analyzer = sentiment._get_analyzer()
    plain_mean = sum(analyzer.polarity_scores(s)["compound"] for s in (short_good, long_bad)) / 2
    assert plain_mean > 0.05  # an unweighted mean would call this positive
    result = analyze_sentiment(f"{short_good} {long_bad}")
    assert result["label"] == "negative"


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0.05, "positive"),
        (0.9, "positive"),
        (0.0499, "neutral"),
        (0.0, "neutral"),
        (-0.0499, "neutral"),
        (-0.05, "negative"),
        (-1.0, "negative"),
    ],
)
def test_standard_vader_thresholds(score: float, label: str) -> None:
    assert label_for(score) == label


def test_score_is_rounded_and_bounded() -> None:
    score = analyze_sentiment("Great work! Nice job. Terrible weather though.")["score"]
    assert -1.0 <= score <= 1.0
    assert round(score, 4) == score


def test_deterministic() -> None:
    text = "The food was great but the service was painfully slow."
    assert analyze_sentiment(text) == analyze_sentiment(text)


def test_works_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedded model must not open network connections")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(sentiment, "_analyzer", None)  # load the lexicon again, offline
    assert analyze_sentiment("Lovely, delightful day.")["label"] == "positive"


LICENCE = """                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007

  The GNU General Public License is a free, copyleft license for software and other
kinds of works. The licenses for most software and other practical works are designed
to take away your freedom to share and change the works. By contrast, the GNU General
Public License is intended to guarantee your freedom to share and change all versions
of a program--to make sure it remains free software for all its users. We, the Free
Software Foundation, use the GNU General Public License for most of our software; it
applies also to any other work released this way by its authors. You can apply it to
your programs, too. To protect your rights, we need to prevent others from denying you
these rights or asking you to surrender the rights.
"""

README = """Adjusting limits
================

The daemon has several limits which trade off working correctly against preventing
local denial of service. The fix for the timeout bug makes it difficult for local users
to block connections. Administrators can reduce the delay by setting auth_timeout to a
lower value in the configuration file. Seeing an error message in the log means the
value is too short. Please reboot several times and check the log after a change.
"""


@pytest.mark.parametrize("text", [LICENCE, README])
def test_licences_and_readmes_read_neutral(text: str) -> None:
    assert analyze_sentiment(text)["label"] == "neutral"


def test_a_long_complaint_is_still_negative() -> None:
    letter = " ".join(
        [
            "I am writing to complain about the terrible service we received.",
            "The delivery was late, the boxes were damaged and the staff were rude.",
            "Nobody answered our calls and the refund never arrived.",
            "This is the worst experience we have had with any supplier.",
            "We are very disappointed and will cancel the contract.",
        ]
    )
    assert analyze_sentiment(letter)["label"] == "negative"


@pytest.mark.parametrize(
    ("score", "band", "label"),
    [
        (0.15, 0.2, "neutral"),
        (0.25, 0.2, "positive"),
        (-0.21, 0.2, "negative"),
        (0.06, None, "positive"),
    ],
)
def test_a_wider_band_for_reference_text(score: float, band: float | None, label: str) -> None:
    assert label_for(score, band) == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # a bug list and an advisory speak in words VADER lacks or underrates
        ("The daemon segfaults on startup and the cache is corrupted.", "negative"),
        ("Unpatched servers are exploitable; the flaw was exploited in the wild.", "negative"),
        ("The importer is buggy and unreliable, and it crashes on large files.", "negative"),
        # an enthusiastic README
        ("It is blazing fast, seamless and rock-solid.", "positive"),
        ("Setup is effortless and the API is intuitive.", "positive"),
        # near misses: plain terms of a neutral README keep no valence
        ("Report bugs to the tracker; line breaks are kept as they are.", "neutral"),
        ("The parser reads the file and writes the index to disk.", "neutral"),
    ],
)
def test_software_words_carry_their_valence(text: str, label: str) -> None:
    assert analyze_sentiment(text)["label"] == label


def test_domain_terms_are_evaluative_only() -> None:
    from eightflow.embedded.sentiment import domain_valences

    valences = domain_valences()
    assert valences["crashes"] < 0 < valences["seamless"]
    assert not {"bug", "bugs", "breaks", "security", "secure"} & set(valences)


@pytest.mark.parametrize(
    ("title", "genre"),
    [
        ("BUGS", "negative"),
        ("Known bugs:", "negative"),
        ("## Known issues and workarounds", "negative"),
        ("List of known bugs and limitations:", "negative"),
        ("Security advisory", "negative"),
        ("Deprecation notice", "negative"),
        ("Thanks to:", "positive"),
        ("# Special thanks", "positive"),
        ("Acknowledgements", "positive"),
        ("Reporting Bugs in the Compiler Collection", None),
        ("Frequently asked questions about bugs and the tracker in this project", None),
        ("Installation", None),
    ],
)
def test_genre_of_a_title_line(title: str, genre: str | None) -> None:
    assert sentiment.genre_of(f"\n{title}\n=====\nThe body follows here.\n") == genre


FLAT_BUG_LIST = (
    "BUGS\nThe parser reads the whole file into memory. Options given twice are merged "
    "silently. The output order is not stable across runs. Long lines are cut at 4096 bytes."
)
FLAT_THANKS = (
    "Thanks to:\n\nAda Example <ada@example.org>\n  * Wrote the first parser.\n\n"
    "Ben Sample <ben@example.org>\n  * Ported the build to a new system.\n"
)


@pytest.mark.parametrize(
    ("text", "label", "basis"),
    [
        (FLAT_BUG_LIST, "negative", "genre"),
        (FLAT_THANKS, "positive", "genre"),
        # a genre title does not outvote text that clearly says the opposite
        (
            "Known issues\nNone! Everything works wonderfully, and users love it. "
            "What a great, delightful, excellent release.",
            "positive",
            "one-sided",
        ),
        # several sentences, none opinionated: neutral however the average drifts
        (
            "The tool copies files. It keeps their modes. Redistribution is permitted "
            "under the conditions below. A copy of the notice must be kept.",
            "neutral",
            "abstain",
        ),
        # a short description whose opinions all lean one way, diluted by a long fact
        (
            "Widget is a simple, elegant and beautiful library. It makes charts easy and fun. "
            "It reads data from files, databases, sockets, spreadsheets and message queues "
            "and writes images in the formats the platform supports, one file per chart. "
            "Version 2 needs Python 3.9.",
            "positive",
            "one-sided",
        ),
    ],
)
def test_document_rules(text: str, label: str, basis: str) -> None:
    result = analyze_sentiment(text)
    assert (result["label"], result["basis"]) == (label, basis)
    assert result["basis"] in sentiment.BASES
