"""Persons named by the document's own evidence rather than by a list of first names.

Real documents name people in set forms: ``Name <email>`` (mail headers, changelog
signatures, maintainer lists, ``**Name** <<email>>`` in Markdown), credit lines ("Written
by X and Y", "thanks to X", cue phrases in ``data/person_cues.txt``), a Debian changelog's
``[ Name ]`` attribution lines, and copyright holders ("Copyright (C) 1988 Larry Wall").
The name itself is two to four capitalized words, with lowercase particles ("du") and
initials allowed inside; it is rejected when any word is one that no person's name holds
(``data/not_person_words.txt``: "License", "Manual", "Debian") or that makes an
organization ("Foundation", "Inc"). Runs after emails are masked, so ``<email>`` shows as
a masked span, and before the list-driven person rules, so "Daniel Kahn Gillmor" is not
cut to "Daniel Kahn".
"""

from __future__ import annotations

import re
from functools import cache

from eightflow.embedded import lexicon as lx
from eightflow.embedded.resources import data_lines, data_words
from eightflow.embedded.spans import MASK, Extraction, alternation
from eightflow.embedded.text import STOPWORDS

__all__ = ["LOWER", "NAME", "UPPER", "evidence_persons", "plausible_name"]

UPPER = "A-ZÀ-ÖØ-Þ"
LOWER = "a-zß-öø-ÿ"
# Smith, McDonald, DeSantis, MacArthur; then O'Brien, Smith-Jones, D'Angelo-Ruiz
_NAME_PART = rf"[{UPPER}](?:[{LOWER}]{{0,2}}[{UPPER}])?[{LOWER}]+"
NAME = rf"(?:[{UPPER}]['’])?{_NAME_PART}(?:-{_NAME_PART})*"
_NOT_PERSON = "not_person_words.txt"


@cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    particles = alternation(data_words("name_particles.txt"))

    def person(gap: str) -> str:
        return rf"{NAME}(?:{gap}(?:(?:{particles}){gap})?(?:[{UPPER}]\.?{gap})?{NAME}){{1,3}}"

    line = person(r"[ \t]+")
    wrapped = person(r"(?:[ \t]+|[ \t]*\n[ \t]*)")  # a hard-wrapped line may split a name
    cues = alternation(c.lower() for c in data_lines("person_cues.txt"))
    mask = re.escape(MASK)
    return (
        # Name <email>, "Name (Company) <email>", **Name** <<email>>
        re.compile(
            rf"(?<![\w.])\**(?P<name>{line})\**[ \t]*(?:\([^()\n]{{1,40}}\)[ \t]*)?"
            rf"<{{1,2}}{mask}+>{{1,2}}"
        ),
        # Written by Name [and Name]
        re.compile(
            rf"(?i:(?<![\w])(?:{cues}))\s+(?P<name>{wrapped})"
            rf"(?:[ \t]*(?:,|and|&)\s+(?P<name2>{wrapped}))?"
        ),
        # [ Name ] on a line of its own (Debian changelog attribution)
        re.compile(rf"(?m)^[ \t]*\[[ \t]*(?P<name>{line})[ \t]*\][ \t]*$"),
        # Copyright (C) 1984, 1985 Name / Copyright (c) Name, 2014-2020
        re.compile(
            rf"(?m)(?i:copyright)[ \t]*(?:\([cC]\)|©)?[ \t]*"
            rf"(?:\d{{4}}(?:[ \t]*[-–][ \t]*\d{{2,4}})?[ \t]*,?[ \t]*)*(?:by[ \t]+)?"
            rf"(?P<name>{line})(?=[ \t]*(?:[,.:<]|$))"
        ),
    )


def plausible_name(name: str) -> bool:
    """Whether the capitalized words of ``name`` can be a person's name."""
    tokens = name.split()
    if len(tokens) < 2 or tokens[0].lower() in STOPWORDS:
        return False
    blocked = data_words(_NOT_PERSON) | lx.ORG_KEYWORDS | lx.LEGAL_SUFFIXES | lx.TITLES
    if any(t.rstrip(".") in blocked for t in tokens):
        return False
    return name not in lx.KNOWN_ORGS and name not in lx.PLACES


def evidence_persons(ex: Extraction) -> None:
    """Add the persons the document names in one of the set forms above."""
    spans = []
    for pattern in _patterns():
        for match in pattern.finditer(ex.masked):
            for group in ("name", "name2"):
                if group not in pattern.groupindex or match.group(group) is None:
                    continue
                name = " ".join(match.group(group).split())
                if not plausible_name(name):
                    continue
                start, end = match.span(group)
                key = ex.add(start, "person", name, key=ex.resolve(name, start))
                ex.alias(name.split()[-1], key, end)
                spans.append((start, end))
        ex.mask(spans)
        spans = []
