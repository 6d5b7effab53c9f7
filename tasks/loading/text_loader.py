"""Loaders for plain text, Markdown and delimited data (CSV, TSV).

All keep the file's text as it is (Markdown markup is readable to models and worth
keeping, and so are a CSV's rows); they differ only in where the title comes from.
"""

from __future__ import annotations

import re

from eightflow_app.tasks.loading.limits import LoadLimits
from eightflow_app.tasks.loading.textutil import (
    Extracted,
    clean_title,
    decode_text,
    first_line_title,
)

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX_H1 = re.compile(r"^\s{0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_H1 = re.compile(r"^\s{0,3}=+[ \t]*$")
_FRONT_MATTER_TITLE = re.compile(r"^title:\s*(.+?)\s*$", re.MULTILINE)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(\S(?:.*?\S)?)\1")


def load_text(data: bytes, limits: LoadLimits) -> Extracted:
    """A ``.txt`` file: the title is the first non-empty line when it is short."""
    text, encoding = decode_text(data)
    return Extracted(
        text=text,
        loader="text",
        media_type="text/plain",
        title=first_line_title(text),
        encoding=encoding,
    )


def load_csv(data: bytes, limits: LoadLimits) -> Extracted:
    """A ``.csv`` file, kept as text (one row per line); its header row is no title."""
    return _delimited(data, "text/csv")


def load_tsv(data: bytes, limits: LoadLimits) -> Extracted:
    """A ``.tsv`` file, kept as text like a CSV (loader name ``csv`` too)."""
    return _delimited(data, "text/tab-separated-values")


def _delimited(data: bytes, media_type: str) -> Extracted:
    text, encoding = decode_text(data)
    return Extracted(text=text, loader="csv", media_type=media_type, title=None, encoding=encoding)


def load_markdown(data: bytes, limits: LoadLimits) -> Extracted:
    """A ``.md`` file: the title is the front matter's ``title:`` or the first level-1 heading."""
    text, encoding = decode_text(data)
    return Extracted(
        text=text,
        loader="markdown",
        media_type="text/markdown",
        title=markdown_title(text),
        encoding=encoding,
    )


def _split_front_matter(text: str) -> tuple[str | None, str]:
    """YAML front matter (``---`` ... ``---`` at the very top) and the rest of the text."""
    if not text.startswith("---"):
        return None, text
    lines = text.splitlines(keepends=True)
    if lines[0].strip() != "---":
        return None, text
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() in {"---", "..."}:
            return "".join(lines[1:i]), "".join(lines[i + 1 :])
    return None, text


def _plain(markdown: str) -> str | None:
    """Inline Markdown reduced to its words: links to their text, emphasis and code unmarked."""
    text = _LINK.sub(r"\1", markdown)
    for _ in range(3):  # nested emphasis such as ***x***
        text = _EMPHASIS.sub(r"\2", text)
    return clean_title(text)


def markdown_title(text: str) -> str | None:
    """The document's title, ignoring ``#`` lines inside fenced code blocks.

    A ``# comment`` in a shell snippet is not a heading, so fences are tracked. Setext
    headings (a line underlined with ``===``) count as level-1 headings too.
    """
    front, body = _split_front_matter(text)
    if front:
        match = _FRONT_MATTER_TITLE.search(front)
        if match:
            title = clean_title(match.group(1).strip("'\""))
            if title:
                return title

    fence: str | None = None
    previous = ""
    for line in body.splitlines():
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            previous = ""
            continue
        if opened:
            fence = opened.group(1)
            previous = ""
            continue
        heading = _ATX_H1.match(line)
        if heading:
            return _plain(heading.group(1))
        if previous.strip() and _SETEXT_H1.match(line):
            return _plain(previous)
        previous = line
    return None
