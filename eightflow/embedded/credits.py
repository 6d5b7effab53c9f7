"""Credit lists: the part of a thanks file an extractive summary must not quote.

A THANKS or AUTHORS file lists people, each with what they did underneath:

    Jane Doe <jane@example.org>
        * Wrote the parser.
    John Smith <john@example.org>
        * Ported the build.

Its contribution lines have no subject of their own ("Ported the build."): quoted in a
summary after a name, or after the title, they credit one person's work to another. A
lone name line is no summary either. :func:`split_credits` finds such a list (at least
:data:`MIN_NAMES` name lines, with an address or as bullets, in a text that speaks of
thanks or credit) and returns the text without its name and contribution lines, plus
the names in order, so the summarizer quotes the file's own prose ("everyone's help has
been important") or, when there is none, says whom the file thanks.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from eightflow.embedded.resources import data_words
from eightflow.embedded.text import STOPWORDS, clip

__all__ = ["Credits", "credit_line", "name_of_line", "split_credits"]

#: A credit list with no prose of its own is summarized by the first few names it thanks.
CREDITED_NAMES = 5
#: A credit list has at least this many name lines.
MIN_NAMES = 3
#: A name has this many words (initials and particles included).
NAME_WORDS = (2, 5)
#: Words that say a text credits people.
_CREDIT_WORDS = re.compile(r"\b(?:thank|credit|contribut|acknowledg|author|helped)", re.I)
_BULLET = re.compile(r"^(?:[-*•+]|\d{1,3}[.)])\s+")
_ADDRESS = re.compile(r"\s*[<(\[][^<>()\[\]\s]+@[^<>()\[\]\s]+[>)\]]\s*$")
_INITIAL = re.compile(r"(?:[^\W\d_]\.)+|[^\W\d_]")
_WORD = re.compile(r"[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*")


class Credits(NamedTuple):
    """The text without its credit lines, and the names those lines give (in order)."""

    text: str
    names: list[str]


def split_credits(text: str) -> Credits:
    """``text`` without the name lines of a credit list and the lines indented under them,
    and the names; ``Credits(text, [])`` when ``text`` holds no credit list."""
    if not _CREDIT_WORDS.search(text):
        return Credits(text, [])
    lines = text.splitlines()
    found: list[tuple[int, str, bool]] = []  # (line number, name, has address or bullet)
    for number, line in enumerate(lines):
        name = name_of_line(line)
        if name is not None:
            body = line.strip()
            marked = _ADDRESS.search(body.rstrip(":,")) or _BULLET.match(body)
            found.append((number, name, bool(marked)))
    if len(found) < MIN_NAMES or sum(marked for _, _, marked in found) < MIN_NAMES:
        return Credits(text, [])
    dropped: set[int] = set()
    for number, _, _ in found:
        dropped.add(number)
        depth = _indent(lines[number])
        for follower in range(number + 1, len(lines)):
            line = lines[follower]
            if not line.strip():
                continue
            if _indent(line) <= depth or name_of_line(line) is not None:
                break
            dropped.add(follower)
    kept = "\n".join(line for n, line in enumerate(lines) if n not in dropped)
    return Credits(kept, [name for _, name, _ in found])


def name_of_line(line: str) -> str | None:
    """The person's name a line consists of ("- H. Peter Anvin", "Jane Doe
    <jane@example.org>:"), else None."""
    body = _BULLET.sub("", line.strip()).rstrip(":,").strip()
    body = _ADDRESS.sub("", body).strip().rstrip(":,").strip()
    tokens = body.split()
    if not NAME_WORDS[0] <= len(tokens) <= NAME_WORDS[1]:
        return None
    particles = data_words("name_particles.txt")
    not_names = data_words("not_person_words.txt")
    capitalised = 0
    for token in tokens:
        if token in particles:
            continue
        if _INITIAL.fullmatch(token):
            if not token[0].isupper():
                return None
            continue
        if not _WORD.fullmatch(token) or not token[0].isupper() or token.isupper():
            return None
        if token in not_names or token.lower() in STOPWORDS:
            return None
        capitalised += 1
    return body if capitalised >= 1 and tokens[-1] not in particles else None


def credit_line(title: str | None, names: list[str], limit: int) -> str:
    """Whom a credit list thanks, in its own words: "Thanks to: A, B and C" (the title,
    else "Credits"), at most ``limit`` characters; ``""`` with no names."""
    if not names:
        return ""
    shown = names[:CREDITED_NAMES]
    rest = len(names) - len(shown)
    listed = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]
    if rest:
        listed = ", ".join(shown) + f" and {rest} more"
    return clip(f"{title or 'Credits'}: {listed}.", limit)


def _indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())
