"""Telling a document's prose from its code, navigation and boilerplate.

Real documents are not all sentences: READMEs carry shell sessions and badges, manuals
carry function signatures and tables of contents, licences and changelogs carry notices
and signatures. Summaries and sentiment should read the prose. :func:`prose_text` blanks
the lines that are code (fenced or literal blocks, prompts, preprocessor lines, lines
that are mostly symbols rather than words); :func:`is_prose` rejects the sentences that
``data/non_prose.txt`` lists (asides such as "HELP:", navigation, copyright and licence
notices, badges, version-control ids, manual page headers). :func:`find_title` finds a
document's title line, including a manual page's NAME line.
"""

from __future__ import annotations

import re

from eightflow.embedded.resources import data_patterns
from eightflow.embedded.text import split_sentences, words

__all__ = ["find_title", "is_code_line", "is_prose", "prose_sentences", "prose_text"]

_FENCE = re.compile(r"^\s*(?:```|~~~)")
_LITERAL_OPENER = re.compile(r"(?:::|^\s*\.\. code-block::.*)\s*$")
_PROMPT = re.compile(r"^\s*(?:[$%]|>>>|\S+\$|\s+#)\s+\S")
_PREPROCESSOR = re.compile(r"^\s*#\s*(?:include|define|if|ifdef|ifndef|endif|else|undef|pragma)\b")
_CODE_END = re.compile(r"(?:[;{}]|\*/|\);?)\s*$")
_STATEMENT_END = re.compile(r"(?:\);|[{}])\s*$")
_CALL = re.compile(r"\b[A-Za-z_]\w*_\w*\s?\(")
_PLAIN_WORD = re.compile(r"^[\"'(“‘*_]?(?:[A-Za-z][a-z'’-]*|[A-Z][A-Z'’-]+)[.,;:!?)\"'”’*_]*$")
_MARKER = re.compile(r"^\s*(?:#{1,6}|[-*•+]|\d{1,3}[.)])\s+")
_NUMBER = re.compile(r"^\(?\d+(?:[.,:/-]\d+)*[.,;:)]*$")
_INDENT = re.compile(r"^(\s*)")
_NON_PROSE = "non_prose.txt"
_TITLE_MAX_WORDS = 12
_VERSION_WORDS = frozenset({"version", "release", "revision", "edition"})
_TITLE_CONNECTORS = frozenset({"and", "of", "for", "the", "to", "&", "-", "in", "on", "with"})
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?:.*\n)*?---[ \t]*(?:\n|\Z)")


def is_code_line(line: str) -> bool:
    """Whether a single line reads as code or a command rather than prose."""
    if not line.strip():
        return False
    if _PROMPT.match(line) or _PREPROCESSOR.match(line):
        return True
    stripped = _MARKER.sub("", line).strip()
    if not stripped:
        return False
    if _STATEMENT_END.search(stripped):
        return True  # "f(x);", "{", "}"
    if _CALL.search(stripped) and not stripped.endswith("."):
        return True  # a signature or call: "int asn1_read_value (asn1_node root, ...)"
    tokens = stripped.split()
    plain = sum(1 for t in tokens if _PLAIN_WORD.match(t) or _NUMBER.match(t))
    ratio = plain / len(tokens)
    if _CODE_END.search(stripped) and (len(tokens) <= 6 or ratio < 0.7):
        return not stripped.endswith(".)")
    return len(tokens) >= 2 and ratio < 0.5


def prose_text(text: str) -> str:
    """``text`` with its code lines blanked (line count kept, so paragraphs stay apart)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    front = _FRONT_MATTER.match(text)
    if front:  # YAML front matter: metadata, not prose (line count kept)
        text = "\n" * front.group().count("\n") + text[front.end() :]
    out: list[str] = []
    fenced = False
    literal_indent: int | None = None
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
            out.append("")
            continue
        if fenced:
            out.append("")
            continue
        indent = len(_INDENT.match(line).group(1)) if line.strip() else None  # type: ignore[union-attr]
        if literal_indent is not None:
            if indent is None or indent > literal_indent:
                out.append("")
                continue
            literal_indent = None
        if _LITERAL_OPENER.search(line) and line.strip():
            literal_indent = indent or 0
            kept = re.sub(r"\s*::\s*$", ":", line) if not line.strip().startswith("..") else ""
            out.append(kept)
            continue
        out.append("" if is_code_line(line) else line)
    return "\n".join(out)


def is_prose(sentence: str) -> bool:
    """False for navigation, asides, notices and headers listed in ``data/non_prose.txt``."""
    flat = " ".join(sentence.split())
    return not any(p.search(flat) for p in data_patterns(_NON_PROSE))


def prose_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that are prose: code lines blanked, non-prose dropped."""
    return [s for s in split_sentences(prose_text(text)) if is_prose(s)]


def find_title(text: str, units: list[str] | None = None) -> str | None:
    """The document's title: a manual page's NAME line, else a short first heading.

    The first unit that is not code, navigation or boilerplate counts when it has at most
    twelve words and does not end like a sentence, joined with a second such unit right
    after it ("Apache License" "Version 2.0, January 2004"); None when the document opens
    with prose.
    """
    if units is None:  # a caller that has them passes prose_sentences(text)
        units = prose_sentences(text)
    for i, unit in enumerate(units):
        if unit.strip() == "NAME" and i + 1 < len(units):
            return units[i + 1]
        if unit.startswith("NAME "):  # the NAME line joined with its heading
            return unit[len("NAME ") :].strip()
    heads: list[str] = []
    for unit in units[:4]:
        if not words(unit):
            continue
        if not _is_heading(unit):
            break
        if heads and not _continues_title(heads[-1], unit):
            break
        heads.append(unit.strip().rstrip(":").strip())
        if len(heads) == 2:
            break
    return " ".join(heads) if heads else None


def _continues_title(title: str, unit: str) -> bool:
    """A version or date line ("Version 2.0, January 2004"), or the rest of a wrapped title."""
    first = unit.split()[0]
    if any(ch.isdigit() for ch in first) or first.lower() in _VERSION_WORDS:
        return True
    return title.split()[-1].lower() in _TITLE_CONNECTORS


def _is_heading(unit: str) -> bool:
    return len(words(unit)) <= _TITLE_MAX_WORDS and not unit.rstrip().endswith((".", "!", "?", ";"))
