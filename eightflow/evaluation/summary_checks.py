"""Summary measures a reader would agree with: checks, the gist's ROUGE-L, key terms.

* :func:`summary_problems`: with the detectors of :mod:`eightflow.embedded.readable`
  (one rule set for the summarizer and the judge), a summary reads as one when it has at most
  :data:`MAX_SUMMARY_SENTENCES` sentences and :data:`MAX_SUMMARY_CHARS` characters, and no
  markup (HTML tags, markdown emphasis or links, table pipes, RST rules), navigation menu
  (a run of short capitalised link words: "Main Menu Home Introduction Documentation") or
  code line (braces, statements, a ChangeLog file entry, a shell prompt).
* :func:`rouge_l_f1`: the LCS-based ROUGE-L F1 of a summary against the labelled gist.
* :func:`missing_terms`: the key terms a summary lacks, matched as whole words (an
  optional plural "s"), case- and space-insensitively: "GPL" is not found in "GPLv3".
"""

from __future__ import annotations

import re

from eightflow.embedded.readable import (
    MAX_SUMMARY_CHARS,
    MAX_SUMMARY_SENTENCES,
    has_code,
    is_menu,
    markup_found,
    sentences,
)

__all__ = [
    "MAX_SUMMARY_CHARS",
    "MAX_SUMMARY_SENTENCES",
    "has_code",
    "is_clean",
    "is_menu",
    "markup_found",
    "missing_terms",
    "rouge_l_f1",
    "sentences",
    "summary_problems",
    "within_length",
]

_WORDS = re.compile(r"\w+")


def summary_problems(summary: str) -> list[str]:
    """What keeps ``summary`` from reading as a summary; empty when it is clean.

    Each problem starts with its check: ``empty``, ``length``, ``sentences``, ``markup``,
    ``menu`` or ``code``.
    """
    if not summary.strip():
        return ["empty"]
    problems: list[str] = []
    if len(summary) > MAX_SUMMARY_CHARS:
        problems.append(f"length: {len(summary)} > {MAX_SUMMARY_CHARS} characters")
    count = len(sentences(summary))
    if count > MAX_SUMMARY_SENTENCES:
        problems.append(f"sentences: {count} > {MAX_SUMMARY_SENTENCES}")
    problems.extend(f"markup: {kind}" for kind in markup_found(summary))
    if is_menu(summary):
        problems.append("menu: a navigation menu")
    if has_code(summary):
        problems.append("code: a code line")
    return problems


_LENGTH_CHECKS = ("empty", "length", "sentences")


def is_clean(problems: list[str]) -> bool:
    """No markup, menu or code (and not empty); length is judged apart."""
    return not [p for p in problems if not p.startswith(_LENGTH_CHECKS[1:])]


def within_length(problems: list[str]) -> bool:
    """Not empty, and at most the allowed sentences and characters."""
    return not [p for p in problems if p.startswith(_LENGTH_CHECKS)]


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return _WORDS.findall(text.casefold())


def lcs_length(a: list[str], b: list[str]) -> int:
    """The length of the longest common subsequence of two token lists."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if token == other else max(previous[j], current[-1]))
        previous = current
    return previous[-1]


def rouge_l_f1(candidate: str, reference: str) -> float:
    """ROUGE-L F1: the LCS of the word sequences, as precision on ``candidate`` and
    recall on ``reference``, combined harmonically (0.0 when either is empty)."""
    cand, ref = words(candidate), words(reference)
    if not cand or not ref:
        return 0.0
    common = lcs_length(cand, ref)
    if not common:
        return 0.0
    precision, recall = common / len(cand), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _term_pattern(term: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(part) for part in term.casefold().split())
    return re.compile(rf"(?<!\w){body}(?:e?s)?(?!\w)")


def missing_terms(summary: str, terms: list[str]) -> list[str]:
    """The key terms absent from ``summary``: whole words, case- and space-insensitive."""
    folded = " ".join(summary.split()).casefold()
    return [t for t in terms if t.strip() and not _term_pattern(t).search(folded)]
