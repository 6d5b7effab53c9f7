"""Summary measures: checks, ROUGE-L against the gist, key terms. Degenerate answers lose."""

from __future__ import annotations

from pathlib import Path

import pytest

from eightflow.evaluation.real_set import load_real_set
from eightflow.evaluation.summary_checks import (
    MAX_SUMMARY_CHARS,
    is_clean,
    lcs_length,
    missing_terms,
    rouge_l_f1,
    sentences,
    summary_problems,
    within_length,
)

REAL = Path(__file__).resolve().parents[2] / "examples" / "eval" / "real"
CLEAN = "GNU Wget is a free utility for non-interactive download of files from the Web."


@pytest.mark.parametrize(
    ("summary", "problems"),
    [
        (CLEAN, []),
        ("The GNU General Public License Version 3 guarantees your freedom to share.", []),
        ("Run ls(1) to list files; C++ and Python bindings exist.", []),
        ("See https://example.org/a_b_c or mail help@example.org for more.", []),
        ("", ["empty"]),
        ("x" * (MAX_SUMMARY_CHARS + 1), [f"length: {MAX_SUMMARY_CHARS + 1} > 400 characters"]),
        ("One. Two is here. Three is here. Four is here.", ["sentences: 4 > 3"]),
        (
            "Main Menu Home Introduction Documentation Download: welcome.",
            ["menu: a navigation menu"],
        ),
        ("Home » Docs » API reference for the tool.", ["menu: a navigation menu"]),
        ("The parser is <em>fast</em>.", ["markup: html tag"]),
        ("It is __bold__ and fast.", ["markup: markdown emphasis"]),
        ("You *may not* use it.", ["markup: markdown emphasis"]),
        ("See [the docs](https://example.org) first.", ["markup: markdown link"]),
        ("Run `make install` first.", ["markup: inline code"]),
        ("| name | value | kind |", ["markup: table pipes"]),
        ("Title ======== follows.", ["markup: rst rule"]),
        ("* src/main.c (main): Fix a leak.", ["code: a code line"]),
        ("int main() { return 0; }", ["code: a code line"]),
        ("if (x == 1) return y;", ["code: a code line"]),
        ("dash (0.5.12-2) unstable; urgency=medium: Fix the entry.", ["code: a code line"]),
    ],
)
def test_summary_checks(summary: str, problems: list[str]) -> None:
    assert summary_problems(summary) == problems


@pytest.mark.parametrize(
    ("problems", "clean", "short"),
    [
        ([], True, True),
        (["length: 500 > 400 characters"], True, False),
        (["sentences: 4 > 3"], True, False),
        (["markup: html tag"], False, True),
        (["menu: a navigation menu", "length: 900 > 400 characters"], False, False),
        (["empty"], False, False),
    ],
)
def test_clean_and_within_length_are_judged_apart(
    problems: list[str], clean: bool, short: bool
) -> None:
    assert (is_clean(problems), within_length(problems)) == (clean, short)


def test_sentences_skip_abbreviations() -> None:
    assert sentences("Tools, e.g. grep, help. It runs on Linux. Done!") == [
        "Tools, e.g. grep, help.",
        "It runs on Linux.",
        "Done!",
    ]


@pytest.mark.parametrize(
    ("candidate", "reference", "score"),
    [
        ("the cat sat on the mat", "the cat lay on the mat", 5 / 6),
        ("The cat sat on the mat.", "the cat sat on the mat", 1.0),
        ("mat the on sat cat the", "the cat sat on the mat", 3 / 6),  # "the on the"
        ("", "the cat sat on the mat", 0.0),
        ("dog", "the cat sat on the mat", 0.0),
        ("The document describes the software.", "GNU Wget downloads files from the Web.", 1 / 6),
    ],
)
def test_rouge_l_f1(candidate: str, reference: str, score: float) -> None:
    assert rouge_l_f1(candidate, reference) == pytest.approx(score)


def test_lcs_length() -> None:
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4
    assert lcs_length([], ["a"]) == 0


@pytest.mark.parametrize(
    ("summary", "terms", "missing"),
    [
        (
            "GNU MP is a library for arbitrary  precision arithmetic.",
            ["GNU MP", "arbitrary precision"],
            [],
        ),
        ("The Apache License: terms.", ["apache license", "Version 2.0"], ["Version 2.0"]),
        ("", ["anything"], ["anything"]),
        ("Licences and Licenses.", ["license", "licence"], []),  # a plural still counts
        ("The GPLv3 applies.", ["GPL"], ["GPL"]),  # inside a longer word: not found
        ("A packaged archive.", ["package", "archiv"], ["package", "archiv"]),  # stems fail
        ("This package provides software.", ["GNU MP", "Package"], ["GNU MP"]),
    ],
)
def test_key_terms_are_whole_words_case_and_space_insensitive(
    summary: str, terms: list[str], missing: list[str]
) -> None:
    assert missing_terms(summary, terms) == missing


@pytest.mark.parametrize(
    "constant",
    [
        "This document describes the software, its license and its documentation.",
        "The package provides a library and a program.",
        "",
    ],
)
def test_a_constant_summary_scores_low_on_the_shipped_gists(constant: str) -> None:
    docs = load_real_set(REAL)
    key_terms = sum(not missing_terms(constant, d.key_terms) for d in docs) / len(docs)
    rouge = sum(rouge_l_f1(constant, d.gist) for d in docs) / len(docs)
    assert key_terms < 0.1
    assert rouge < 0.2
