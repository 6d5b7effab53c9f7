"""What a reader accepts in a summary: the detectors, and the cleaner that feeds them.

A summary reads as one when it has at most :data:`MAX_SUMMARY_SENTENCES` sentences and
:data:`MAX_SUMMARY_CHARS` characters, and holds no markup (:func:`markup_found`: HTML
tags, markdown emphasis, links or inline code, table pipes, RST rules), no navigation menu
(:func:`is_menu`) and no code (:func:`has_code`: braces, statements, a ChangeLog entry or
header, a shell prompt). The embedded summarizer cleans its candidate sentences with
:func:`strip_markup` and drops those :func:`unreadable` still rejects; the evaluator
(:mod:`eightflow.evaluation.summary_checks`) judges every model's summaries with these same
detectors, so there is one rule set, not two that drift apart.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_SUMMARY_CHARS",
    "MAX_SUMMARY_SENTENCES",
    "has_code",
    "is_menu",
    "markup_found",
    "sentences",
    "strip_markup",
    "unreadable",
]

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
    "rst rule": re.compile(r"(?P<rule>[=\-~^*#+_])(?P=rule){3,}"),
}
_MENU_SEPARATORS = re.compile(r"(?:[^\s»›·•]+\s*[»›·•]\s*){2,}[^\s»›·•]+")
_HAS_SEPARATOR = re.compile(r"[»›·•]")
_TITLE_RUN = re.compile(r"(?<!\S)[A-Z][a-z]{0,13}(?:\s+[A-Z][a-z]{0,13}){2,}(?!\S)")
"""Three or more whitespace-separated title-case words in a row ("Main Menu Home")."""
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
    # a ChangeLog file entry with its bullet gone: "src/grep.c (main): Fix the leak."
    re.compile(r"^\s*[\w./-]+\.(?:c|h|cc|cpp|py|js|sh|pl|rb|go|rs|java|in|am|ac|m4)\s*\([^)]*\):"),
    re.compile(r"\b[A-Za-z_]\w*\([^()\s]*[,\"'*&][^()]*\)\s*;?"),  # call(a, b), f("x")
    re.compile(r"^\s*[A-Za-z_][\w.]*\s*=(?!=)\s*\S", re.M),  # an assignment opens the line
)


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
    """Whether ``text`` holds a navigation menu or a breadcrumb trail: a run of
    :data:`MENU_RUN` title-case words, or of three holding two :data:`MENU_WORDS`."""
    if _HAS_SEPARATOR.search(text) and _MENU_SEPARATORS.search(text):
        return True
    for run in _TITLE_RUN.finditer(text):
        names = run.group().lower().split()
        if len(names) >= MENU_RUN or sum(w in MENU_WORDS for w in names) >= 2:
            return True
    return False


def markup_found(text: str) -> list[str]:
    """The kinds of markup in ``text`` (HTML, markdown, table pipes, RST rules)."""
    return [name for name, pattern in _MARKUP.items() if pattern.search(text)]


def has_code(text: str) -> bool:
    """Whether ``text`` holds a line or fragment of code."""
    return any(pattern.search(text) for pattern in _CODE)


_INLINE_TAGS = (
    "a|abbr|b|big|br|cite|code|dfn|em|font|i|kbd|mark|p|q|s|samp|small|span|strong|sub|sup|tt|u|var"
)
_CLEANERS: tuple[tuple[re.Pattern[str], str], ...] = (
    # HTML inline tags go, their text stays: "<em>fast</em>" -> "fast"
    (re.compile(rf"</?(?:{_INLINE_TAGS})(?:\s[^<>]*)?/?>", re.I), ""),
    # markdown links and references: "[the docs](url)", "[text][]", "[text][ref]" -> text
    (re.compile(r"\[([^\]]+)\]\([^)\s]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    # RST links: "`RFC 7519 <https://...>`_" -> "RFC 7519"
    (re.compile(r"`([^`<]+?)\s*<[^>`]+>`_{1,2}"), r"\1"),
    (re.compile(r"`([^`]+)`_{1,2}"), r"\1"),
    # inline code: "``doc/``", "`make`" -> the text (the code detector judges it next)
    (re.compile(r"``([^`]+)``"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    # emphasis: "**bold**", "__bold__", "*may not*", "_word_" -> the words
    (re.compile(r"(?<![\w*])(\*\*|__)(\S(?:.*?\S)?)\1(?![\w*])"), r"\2"),
    (re.compile(r"(?<![\w*])\*([^\s*](?:[^*]*[^\s*])?)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_([^\s_](?:[^_]*[^\s_])?)_(?!\w)"), r"\1"),
    # an RST reference after emphasis is gone: "Jansson_" -> "Jansson"
    (re.compile(r"(?<=[A-Za-z])_{1,2}(?=[\s.,;:!?)]|$)"), ""),
    # a table row's frame: "| | | The Valgrind Quick Start Guide |" -> the cell text
    (re.compile(r"^(?:\s*\|)+\s*|\s*(?:\|\s*)+$"), ""),
)


_MARKUP_CHARS = re.compile(r"[<\[`*_|]")


_ANY_MARKUP_OR_CODE = re.compile(
    "|".join(f"(?:{pattern.pattern})" for pattern in (*_MARKUP.values(), *_CODE)), re.M
)
"""Every markup and code pattern in one (each is single-line text's same verdict)."""


def strip_markup(text: str) -> str:
    """``text`` with markup that wraps words (tags, links, emphasis, code, a table
    row's frame) reduced to the words; other markup is left for :func:`unreadable`."""
    if not _MARKUP_CHARS.search(text):
        return " ".join(text.split())
    for pattern, replacement in _CLEANERS:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def unreadable(text: str) -> bool:
    """Whether ``text`` holds markup, a navigation menu or code (length is judged apart):
    ``markup_found``, ``is_menu`` and ``has_code`` in one pass where they can be."""
    return bool(_ANY_MARKUP_OR_CODE.search(text)) or is_menu(text)
