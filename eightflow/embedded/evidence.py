"""Persons named by the document's own evidence rather than by a list of first names.

Real documents name people in set forms: ``Name <email>`` (mail headers, changelog
signatures, maintainer lists, ``**Name** <<email>>`` in Markdown), credit lines ("Written
by X and Y", "thanks to X", cue phrases in ``data/person_cues.txt``), a Debian changelog's
``[ Name ]`` attribution lines, copyright holders ("Copyright (C) 1988 Larry Wall"), and
names right before a verb of their own work (``data/person_verbs.txt``: "Jane Doe
discovered").
The name itself is two to four capitalized words, with lowercase particles ("du") and
initials allowed inside; it is rejected when any word is one that no person's name holds
(``data/not_person_words.txt``: "License", "Manual", "Debian") or that makes an
organization ("Foundation", "Inc"). Runs after emails are masked, so ``<email>`` shows as
a masked span, and before the list-driven person rules, so "Daniel Kahn Gillmor" is not
cut to "Daniel Kahn".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
_LIST_LINE = re.compile(r"(?m)^(?:[ \t]*[-*•][ \t]+|[ \t]+)(?P<name>\S.*?)[ \t]*$")
_WORD_BEFORE = re.compile(r"(\w+)[ \t]+$")
_PARTICIPLE_ENDINGS = ("ed", "en", "wn")  # written, maintained, drawn ... by
_LOWER_WORD = re.compile(rf"\b[{LOWER}]+\b")


_WRAPPED_GAP = r"(?:[ \t]+|[ \t]*\n[ \t]*)"  # a hard-wrapped line may split a name


@cache
def _person(gap: str) -> str:
    """A name of two to four capitalized words (particles and initials inside, and an
    initial before: "H. Peter Anvin", "Nelson H. F. Beebe")."""
    particles = alternation(data_words("name_particles.txt"))
    initials = rf"(?:[{UPPER}]\.?{gap}){{0,2}}"
    lead = rf"(?:[{UPPER}]\.{gap})?"
    return rf"{lead}{NAME}(?:{gap}(?:(?:{particles}){gap})?{initials}{NAME}){{1,3}}"


@cache
def _one() -> str:
    """One name of a credit list: a full name, or an initial and a surname."""
    return rf"(?:{_person(_WRAPPED_GAP)}|[{UPPER}]\.[ \t]?{NAME})"


@cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    line = _person(r"[ \t]+")
    one = _one()
    cues = alternation(c.lower() for c in data_lines("person_cues.txt"))
    mask = re.escape(MASK)
    names = rf"{one}(?:[ \t]*(?:,[ \t]*(?:and[ \t]+)?|and[ \t]+|&[ \t]+){one}){{0,5}}"
    bracketed = rf"{NAME}(?:[ \t]+(?:{NAME}|[{UPPER}]\.?(?!\w))){{1,2}}"
    return (
        # Name <email>, "Name (Company) <email>", **Name** <<email>>
        re.compile(
            rf"(?<![\w.])\**(?P<name>{line})\**[ \t]*(?:\([^()\n]{{1,40}}\)[ \t]*)?"
            rf"<{{1,2}}{mask}+>{{1,2}}"
        ),
        # Written by Name[, Name] [and Name]
        re.compile(rf"(?i:(?<![\w])(?:{cues}))\s+(?P<list>{names})"),
        # "<participle> by Name" (checked words); "by B. Jackowski, P. Strzelczyk and
        # P. Pianowski" (an initial marks a person)
        re.compile(rf"(?<![\w])by[ \t]+(?P<by>{names})"),
        # [ Name ] on a line of its own (Debian changelog attribution), "[ Sam Q ]" too
        re.compile(rf"(?m)^[ \t]*\[[ \t]*(?P<name>{bracketed}|{line})[ \t]*\][ \t]*$"),
        # Copyright (C) 1984, 1985 Name / Copyright (c) Name, 2014-2020
        re.compile(
            rf"(?m)(?i:copyright)[ \t]*(?:\([cC]\)|©)?[ \t]*"
            rf"(?:\d{{4}}(?:[ \t]*[-–][ \t]*\d{{2,4}})?[ \t]*,?[ \t]*)*(?:by[ \t]+)?"
            rf"(?P<name>{line})(?=[ \t]*(?:[,.:<]|$))"
        ),
        # Name [, Name] [and Name] <verb of their own work> ("Jane Doe discovered",
        # data/person_verbs.txt; checked words)
        # (matched backwards from each verb, see _matches: scanning for names first
        # cost 7 ms on a 100,000-character document)
        re.compile(rf"(?<![\w.])(?P<agents>{names})\Z"),
        # credit brackets in running text: "[Jane Doe]", "(John Smith)" (checked words)
        # (not a markdown link's text: "[Issue Tracker](url)", "[Working Groups][]")
        re.compile(rf"[\[(][ \t]*(?P<checked>{bracketed})[ \t]*(?:\)|\](?![\[(:]))"),
        # a list of people: two or more bulleted or indented lines in a row, each holding a
        # name alone (checked words; a menu's one-word items break the run)
        re.compile(
            rf"(?m)(?:^(?:[ \t]*[-*•][ \t]+|[ \t]+){line}[ \t]*\n){{1,}}"
            rf"(?:^(?:[ \t]*[-*•][ \t]+|[ \t]+){line}[ \t]*$)"
        ),
    )


@cache
def _one_name() -> re.Pattern[str]:
    """One name of a credit list ("B. Jackowski, P. Strzelczyk and P. Pianowski")."""
    return re.compile(_one())


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
    """Add the persons the document names in one of the set forms above.

    Forms without a cue phrase (brackets, name-only list lines, "<participle> by") are
    checked: no word of the name may occur in lowercase in the document, so "(Public
    Domain)" or "- Getting Started" is not a person when "public" or "getting" is a word
    of its text.
    """
    lower: frozenset[str] | None = None
    for pattern in _patterns():
        spans = []
        for match in _matches(pattern, ex.masked):
            for start, end, checked in _names_in(match):
                name = " ".join(ex.masked[start:end].split())
                if not plausible_name(name):
                    continue
                if checked:
                    lower = (
                        lower if lower is not None else frozenset(_LOWER_WORD.findall(ex.masked))
                    )
                    if any(w.lower() in lower for w in name.split()):
                        continue
                key = ex.add(start, "person", name, key=ex.resolve(name, start))
                ex.alias(name.split()[-1], key, end)
                spans.append((start, end))
        ex.mask(spans)


#: How far before a verb of work its names may start (six names and their commas).
AGENT_WINDOW = 160


@cache
def _verbs() -> re.Pattern[str]:
    return re.compile(rf"[ \t]+(?:{alternation(data_lines('person_verbs.txt'))})\b")


def _matches(pattern: re.Pattern[str], masked: str) -> Iterator[re.Match[str]]:
    """The pattern's matches; the names before a verb of work are found from the verb."""
    if "agents" not in pattern.groupindex:
        yield from pattern.finditer(masked)
        return
    for verb in _verbs().finditer(masked):
        found = pattern.search(masked, max(0, verb.start() - AGENT_WINDOW), verb.start())
        if found:
            yield found


def _names_in(match: re.Match[str]) -> list[tuple[int, int, bool]]:
    """``(start, end, checked)`` of each name a match holds."""
    groups = match.re.groupindex
    if "agents" in groups:
        offset = match.start("agents")
        return [
            (offset + m.start(), offset + m.end(), True)
            for m in _one_name().finditer(match["agents"])
        ]
    if "list" in groups or "by" in groups:
        group = "list" if "list" in groups else "by"
        offset = match.start(group)
        found = [(offset + m.start(), offset + m.end()) for m in _one_name().finditer(match[group])]
        if group == "list":
            return [(a, b, False) for a, b in found]
        before = _WORD_BEFORE.search(match.string, max(0, match.start() - 40), match.start())
        if before and before.group(1).lower().endswith(_PARTICIPLE_ENDINGS):
            return [(a, b, True) for a, b in found]
        return [(a, b, False) for a, b in found if match.string[a + 1 : a + 2] == "."]
    if not groups:  # a run of name-only lines
        names = list(_LIST_LINE.finditer(match.group()))
        return [
            (match.start() + m.start("name"), match.start() + m.end("name"), True) for m in names
        ]
    group = "checked" if "checked" in groups else "name"
    return [(*match.span(group), group == "checked")]
