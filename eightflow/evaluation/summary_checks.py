"""Summary measures a reader would agree with: checks, the gist's ROUGE-L, key terms.

* :func:`summary_problems`: a summary reads as a summary when it has at most
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

MAX_SUMMARY_SENTENCES = 3
MAX_SUMMARY_CHARS = 400
"""A summary longer than this is an excerpt, not a summary (three long sentences fit)."""
MENU_RUN = 6
"""Consecutive short capitalised words that make a navigation menu on their own."""
_MENU_WORDS_TEXT = (
    "home menu main introduction documentation docs download downloads news contact "
    "about faq search index contents next previous prev up top back login help blog "
    "community support api tutorial guide sitemap"
)
MENU_WORDS = frozenset(_MENU_WORDS_TEXT.split())
"""Words navigation menus are made of: three title-case words, two of them these, are a menu."""

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf|Dr|Mr|Mrs|Ms|St|No|Inc|Ltd|Co)\.$")
_MARKUP: dict[str, re.Pattern[str]] = {
    "html tag": re.compile(r"(?<![\w-])</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"),
    "markdown emphasis": re.compile(
        r"(?<![\w*])\*\*\S[^*]*\*\*|(?<![\w_])__\S[^_]*__(?!\w)"
        r"|(?<![\w*])\*[^\s*][^*]*\*(?![\w*])|(?<![\w_])_[^\s_][^_]*_(?!\w)"
    ),
    "markdown link": re.compile(r"\[[^\]]+\]\([^)\s]+\)|`[^`]+`_|^\s*#{1,6}\s", re.M),
    "inline code": re.compile(r"``?[^`]+``?"),
    "table pipes": re.compile(r"\|[^|\n]*\|[^|\n]*\||^\s*\|?\s*:?-{3,}:?\s*\|", re.M),
    "rst rule": re.compile(r"([=\-~^*#+_])\1{3,}"),
}
_MENU_SEPARATORS = re.compile(r"(?:[^\s»›·•]+\s*[»›·•]\s*){2,}[^\s»›·•]+")
_TITLE_WORD = re.compile(r"[A-Z][a-z]{0,13}")
_CODE: tuple[re.Pattern[str], ...] = (
    re.compile(r"[{}]|;\s*$|;\s+\w+\s*[=(]", re.M),
    re.compile(r"(?<![=!<>])==(?!=)|!=|&&|\|\||->|=>|::|\+=|-="),
    re.compile(
        r"^\s*(?:def|class|import|from \S+ import|#include|#define|function|var|let|const|"
        r"return|public|private|static|void|int|char)\b",
        re.M,
    ),
    re.compile(r"^\s*\$\s+\w|^\s*>>>\s", re.M),  # a shell or Python prompt
    re.compile(r"\*\s+[\w./-]+\.(?:c|h|cc|cpp|py|js|sh|pl|rb|go|rs|java|in|am|ac|m4)\b"),
    re.compile(r"\b[A-Za-z_]\w*\([^()\s]*[,\"'*&][^()]*\)\s*;?"),  # call(a, b), f("x")
    re.compile(r"^\s*[A-Za-z_][\w.]*\s*=(?!=)\s*\S", re.M),  # an assignment opens the line
)
_WORDS = re.compile(r"\w+")


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (abbreviations such as "e.g." do not end one)."""
    parts: list[str] = []
    for piece in _SENTENCE_END.split(" ".join(text.split())):
        if parts and _ABBREVIATION.search(parts[-1]):
            parts[-1] = f"{parts[-1]} {piece}"
        elif piece:
            parts.append(piece)
    return parts


def is_menu(text: str) -> bool:
    """Whether ``text`` holds a navigation menu or a breadcrumb trail."""
    if _MENU_SEPARATORS.search(text):
        return True
    run: list[str] = []
    for word in [*text.split(), ""]:
        bare = word.strip(".,:;!?\"'()[]")
        if _TITLE_WORD.fullmatch(bare) and bare == word:
            run.append(bare.lower())
            continue
        menu_words = sum(w in MENU_WORDS for w in run)
        if len(run) >= MENU_RUN or (len(run) >= 3 and menu_words >= 2):
            return True
        run = []
    return False


def markup_found(text: str) -> list[str]:
    """The kinds of markup in ``text`` (HTML, markdown, table pipes, RST rules)."""
    return [name for name, pattern in _MARKUP.items() if pattern.search(text)]


def has_code(text: str) -> bool:
    """Whether ``text`` holds a line or fragment of code."""
    return any(pattern.search(text) for pattern in _CODE)


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
