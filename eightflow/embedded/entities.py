"""Rule-based named-entity extraction.

No NER model may be downloaded, so entities come from patterns plus curated lists, tuned
for precision: a missed entity is a smaller harm than "The" or "However" reported as an
organization. Passes run from the most self-evident type to the most ambiguous (URLs and
emails, dates, amounts, organizations, persons, aliases, places); each pass masks what it
claimed, so a later pass cannot re-read "jane.doe@acme.com" as a person or "Bank of
America" as a place. Aliases let later short mentions ("Cook", "Acme", "WHO") count
towards the full name they abbreviate.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from eightflow.embedded import lexicon as lx
from eightflow.embedded.evidence import NAME as _NAME
from eightflow.embedded.evidence import UPPER as _U
from eightflow.embedded.evidence import evidence_persons
from eightflow.embedded.patterns import (
    AMOUNT_PATTERNS,
    DATE_PATTERNS,
    EMAIL,
    URL,
    plausible_email,
    valid_numeric_date,
)
from eightflow.embedded.prose import is_code_line
from eightflow.embedded.resources import data_words
from eightflow.embedded.spans import MASK, Extraction, alternation
from eightflow.embedded.text import STOPWORDS

__all__ = ["ENTITY_TYPES", "extract_entities"]

ENTITY_TYPES = ("person", "organization", "place", "date", "amount", "email", "url")

_INITIAL = rf"[{_U}]\."
_WS = r"(?:[ \t]+\n?[ \t]*|\n[ \t]*)"  # one gap holding at most one line break
_SP = r"[ \t]+"
_CAPW = rf"(?:[{_U}]\.(?:[{_U}]\.)+|[{_U}][\w'’&-]*)"
_CAPSEQ = rf"{_CAPW}(?:{_SP}(?:&{_SP})?{_CAPW}){{0,4}}"
_NUMERIC_DATE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")
_POSSESSIVE = re.compile(r"['’]s$")
_ACRONYM_DEFINITION = re.compile(r"[ \t]*\(([A-Z][A-Za-z&]{1,7})\)")
_ORG_WORDS = lx.LEGAL_SUFFIXES | lx.ORG_KEYWORDS
_CONNECTORS = frozenset({"of", "for", "on", "the", "&"})
#: "$1", "$2": a dollar sign and one digit is a shell positional parameter, not money.
_SHELL_PARAMETER = re.compile(r"\$\d")
_LICENCE_ABBREVIATION = re.compile(r"(?:License|Licence)[ \t]*\($")
_NOT_PERSON = "not_person_words.txt"
_PRODUCT_WORDS = "org_product_words.txt"


@cache
def _regexes() -> dict[str, re.Pattern[str]]:
    """Compile the list-driven patterns once, on first use (keeps the import cheap)."""
    bound_l, bound_r = r"(?<![\w&])", r"(?![\w&])"
    multi = [n for n in lx.KNOWN_ORGS if " " in n]
    single = [n for n in lx.KNOWN_ORGS if " " not in n] + sorted(lx.KNOWN_ACRONYMS)
    legal = alternation(lx.LEGAL_SUFFIXES)
    firsts = alternation(lx.FIRST_NAMES)
    return {
        "legal": re.compile(rf"{bound_l}{_CAPSEQ},?{_SP}(?:{legal})\b\.?"),
        "legal_tail": re.compile(rf"(?:,?{_SP}(?:{legal})\.?)+$"),
        "keyword": re.compile(
            rf"{bound_l}(?:{_CAPSEQ}{_SP})?(?:{alternation(lx.ORG_KEYWORDS)})\b"
            rf"(?:{_SP}(?:of|for|on){_SP}(?:the{_SP})?{_CAPW}(?:{_SP}{_CAPW}){{0,3}})?"
        ),
        # a known name may wrap onto the next line ("the Free\n Software Foundation")
        "known_multi": re.compile(
            rf"{bound_l}(?:{alternation(multi).replace(chr(92) + ' ', chr(92) + 's+')}){bound_r}"
        ),
        "known_single": re.compile(rf"{bound_l}(?:{alternation(single)}){bound_r}"),
        "title": re.compile(
            rf"{bound_l}(?P<title>{alternation(lx.TITLES)})\.?{_WS}"
            rf"(?P<name>(?:(?:{_INITIAL}|{_NAME}){_WS}){{0,2}}{_NAME})"
        ),
        "role": re.compile(
            rf"{bound_l}(?P<title>{alternation(lx.ROLES)}){_WS}"
            rf"(?P<name>{_NAME}(?:{_WS}{_INITIAL})?{_WS}{_NAME})"
        ),
        "first": re.compile(
            rf"{bound_l}(?P<name>(?:{firsts})(?:{_WS}{_INITIAL})?{_WS}{_NAME})"
            rf"{bound_r}"
        ),
        "place": re.compile(rf"{bound_l}(?:{alternation(lx.PLACES)}){bound_r}"),
    }


def extract_entities(text: str) -> dict[str, Any]:
    """Return ``{"entities": [{"text", "type", "count"}, ...]}`` in order of first mention."""
    text = (text or "").replace(MASK, " ")
    if not text.strip():
        return {"entities": []}
    ex = Extraction(text)
    rx = _regexes()
    _urls(ex)
    _emails(ex)
    for pattern in DATE_PATTERNS:
        ex.scan(pattern, "date", _valid_date)
    _amounts(ex)
    evidence_persons(ex)
    _organizations(ex, rx)
    _persons(ex, rx)
    _alias_mentions(ex)
    _known_single(ex, rx["known_single"])
    _places(ex, rx["place"])
    return {"entities": ex.result()}


def _urls(ex: Extraction) -> None:
    """URLs, except a template cut at its placeholder ("https://host/${VERSION}/...")."""
    spans = []
    for match in URL.finditer(ex.masked):
        spans.append(match.span())
        if ex.masked[match.end() : match.end() + 1] not in ("{", "$"):
            ex.add(match.start(), "url", match.group())
    ex.mask(spans)


def _emails(ex: Extraction) -> None:
    """Mailboxes; unit names, protocol extensions and git SSH addresses are masked too,
    so no later pass reads "github.com" or "openssh.com" on its own."""
    spans = []
    for match in EMAIL.finditer(ex.masked):
        spans.append(match.span())
        if plausible_email(match.group(), ex.masked[match.end() : match.end() + 2]):
            ex.add(match.start(), "email", match.group())
    ex.mask(spans)


def _amounts(ex: Extraction) -> None:
    """Amounts in prose: not in code lines ("8%CPU", "$1"), not shell parameters."""
    for pattern in AMOUNT_PATTERNS:
        spans = []
        for match in pattern.finditer(ex.masked):
            spans.append(match.span())
            if _SHELL_PARAMETER.fullmatch(match.group()) or _in_code_line(ex.text, match.start()):
                continue
            ex.add(match.start(), "amount", match.group())
        ex.mask(spans)


def _in_code_line(text: str, position: int) -> bool:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return is_code_line(text[start : end if end >= 0 else len(text)])


def _valid_date(surface: str) -> bool:
    return not _NUMERIC_DATE.fullmatch(surface) or valid_numeric_date(surface)


def _organizations(ex: Extraction, rx: dict[str, re.Pattern[str]]) -> None:
    for kind in ("known_multi", "legal", "keyword"):
        spans = []
        for match in rx[kind].finditer(ex.masked):
            span = (
                _trim_org(ex.masked, match.start(), match.end(), kind == "legal")
                if kind != "known_multi"
                else match.span()
            )
            if span is None or _names_a_product(ex, *span):
                continue
            start, end = span
            surface = ex.masked[start:end]
            key = ex.add(start, "organization", surface, key=ex.resolve(surface, start))
            spans.append((start, end))
            if kind == "legal":
                base = rx["legal_tail"].sub("", surface)
                if base != surface and base.lower() not in STOPWORDS:
                    ex.alias(" ".join(base.split()), key, end)
            acronym = _ACRONYM_DEFINITION.match(ex.masked, end)
            if acronym:  # "World Health Organization (WHO)": later "WHO" is this org
                ex.alias(acronym.group(1), key, end)
                spans.append((end, acronym.end()))
        ex.mask(spans)


def _names_a_product(ex: Extraction, start: int, end: int) -> bool:
    """ "Mozilla Public License", "MIT License", "(MIT)" after a licence: not the org."""
    if ex.word_after(end) in data_words(_PRODUCT_WORDS):
        return True
    return bool(_LICENCE_ABBREVIATION.search(ex.masked, max(0, start - 20), start))


def _trim_org(masked: str, start: int, end: int, legal: bool) -> tuple[int, int] | None:
    """Drop leading sentence words ("The", "Yesterday", "Apple's") and a trailing tail
    that runs into a title or a person ("Bank of England Governor Andrew Bailey")."""
    tokens = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", masked[start:end])]
    words = [masked[a:b].rstrip(".,") for a, b in tokens]
    head = 0
    for i, word in enumerate(words):
        if _POSSESSIVE.search(word) and word not in lx.KNOWN_ORGS:
            head = i + 1
    while head < len(words) and (
        words[head].lower() in STOPWORDS or words[head] in lx.LEADING_NOISE
    ):
        head += 1
    tail, seen_keyword = len(words), False
    for i in range(head, len(words)):
        word = words[i]
        if word in _CONNECTORS:
            continue
        if seen_keyword and word not in _ORG_WORDS and _foreign_to_org(word):
            tail = i
            break
        seen_keyword = seen_keyword or word in _ORG_WORDS
    while tail > head and words[tail - 1] in _CONNECTORS:
        tail -= 1
    kept = [w for w in words[head:tail] if w not in _CONNECTORS]
    if not any(w in _ORG_WORDS for w in kept) or all(w in _ORG_WORDS for w in kept):
        return None
    if not legal and len(kept) < 2:
        return None
    return tokens[head][0], tokens[tail - 1][1]


def _foreign_to_org(word: str) -> bool:
    """Words that end an organization's "of ..." tail: titles, first names, dates."""
    return (
        word in lx.TITLES
        or word in lx.FIRST_NAMES
        or word in lx.NOT_SURNAMES
        or word.lower() in STOPWORDS
    )


def _persons(ex: Extraction, rx: dict[str, re.Pattern[str]]) -> None:
    candidates: list[tuple[int, int, str, str]] = []  # start, end, title, name
    for kind in ("title", "role", "first"):
        spans = []
        pos = 0
        while match := rx[kind].search(ex.masked, pos):
            names = _name_tokens(match.group("name"), match.start("name"))
            if not names or (kind != "title" and len(names) < 2):
                pos = match.start() + 1  # retry inside: "Secretary General António Guterres"
                continue
            end = names[-1][1]
            title = ex.masked[match.start() : match.start("name")].strip()
            start = match.start() if len(names) == 1 else names[0][0]
            candidates.append((start, end, title, " ".join(ex.masked[a:b] for a, b in names)))
            spans.append((match.start(), end))
            pos = end
        ex.mask(spans)
    for start, end, title, name in sorted(candidates):
        tokens = name.split()
        surname = tokens[-1]
        if len(tokens) == 1:
            known = ex.resolve(surname, start)
            if known:
                ex.add(start, "person", name, key=known)
                continue
            key = ex.add(start, "person", f"{title} {surname}")
        else:
            key = ex.add(start, "person", name)
        ex.alias(surname, key, end)


def _name_tokens(raw: str, offset: int) -> list[tuple[int, int]]:
    """Spans of the name's tokens, up to the first word that cannot be part of a name."""
    spans: list[tuple[int, int]] = []
    for match in re.finditer(r"\S+", raw):
        token = match.group()
        if (
            token in lx.NOT_SURNAMES
            or token.rstrip(".,;:") in data_words(_NOT_PERSON)
            or token in lx.TITLES
            or token in lx.LEADING_NOISE
            or token in lx.ORG_KEYWORDS
            or token.lower() in STOPWORDS
            or (token in lx.PLACES and token not in lx.AMBIGUOUS_PLACES)
        ):
            break
        spans.append((offset + match.start(), offset + match.end()))
    while spans and raw[spans[-1][1] - offset - 1] == ".":  # never end on an initial
        spans.pop()
    return spans


def _alias_mentions(ex: Extraction) -> None:
    if not ex.aliases:
        return
    pattern = re.compile(rf"(?<![\w&])(?:{alternation(ex.aliases)})(?![\w&])")
    # Words also used in lowercase ("young", "apple") are common words at a sentence start.
    lower_words = frozenset(re.findall(r"[a-z]+", ex.masked))
    spans = []
    for match in pattern.finditer(ex.masked):
        key = ex.resolve(match.group(), match.start())
        if key is None:
            continue
        if match.group().lower() in lower_words and ex.sentence_initial(match.start()):
            continue  # "Young people ..." is not a mention of Neil Young
        before = ex.word_before(match.start())
        if before[:1].isupper() and before.lower() not in STOPWORDS:
            continue  # "Georgia Smith" is someone else than "Jane Smith"
        ex.add(match.start(), ex.entities[key].type, match.group(), key=key)
        spans.append(match.span())
    ex.mask(spans)


def _known_single(ex: Extraction, pattern: re.Pattern[str]) -> None:
    spans = []
    for match in pattern.finditer(ex.masked):
        word = match.group()
        if word.isupper() and _shouting(ex.word_before(match.start()), ex.word_after(match.end())):
            continue  # "WHO WE ARE" is a heading, not the World Health Organization
        if _names_a_product(ex, match.start(), match.end()):
            continue
        ex.add(match.start(), "organization", word)
        spans.append(match.span())
    ex.mask(spans)


def _shouting(*neighbours: str) -> bool:
    return any(len(w) > 1 and w.isalpha() and w.isupper() for w in neighbours)


def _places(ex: Extraction, pattern: re.Pattern[str]) -> None:
    confirmed: set[str] = set()
    spans = []
    for match in pattern.finditer(ex.masked):
        name = match.group()
        cued = ex.word_before(match.start()).lower() in lx.LOCATIVE_CUES
        follower = ex.word_after(match.end())
        if not cued and follower[:1].isupper() and not _may_follow_place(follower):
            continue  # "Texas Instruments", "Paris Agreement": part of a longer name
        if name in lx.AMBIGUOUS_PLACES and name not in confirmed:
            if not cued:
                continue  # "Jordan said" is a person; "in Jordan" is the country
            confirmed.add(name)
        ex.add(match.start(), "place", name)
        spans.append(match.span())
    ex.mask(spans)


def _may_follow_place(word: str) -> bool:
    """Capitalized words that can follow a place without forming a longer name with it."""
    return word in lx.PLACES or word in lx.NOT_SURNAMES or word in lx.TITLES
