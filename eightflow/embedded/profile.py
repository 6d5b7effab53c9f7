"""A document's profile: kind, length, structure and language, by plain rules.

The embedded planner decides what to run on a document from this profile, and the
triage workflow's pure-Python steps (``flag_language``, ``extract_tables``) use the same
code, so what the planner saw and what the steps report never disagree. Everything is
regular expressions and word counts: deterministic, offline and fast.

* **Language**: the share of each language's commonest function words among the words of
  the text (en, fr, de, es, it, pt, nl); too few words or too little signal is ``und``.
* **Tables**: runs of lines that split into the same number of cells, either on pipes
  (Markdown tables, and HTML tables as the HTML loader renders them: ``a | b``) or as
  delimited text (CSV, TSV, semicolons).
* **Kind**: ``tabular`` (mostly table rows), ``legal`` (dense licence/contract/policy/terms
  wording), ``faq`` (many question lines), ``meeting_notes`` (attendees, agenda, action
  items...), ``article`` (prose) or ``other`` (too short to say).
"""

from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "LANGUAGE_NAMES",
    "LEGAL_CUES",
    "LONG_DOCUMENT_WORDS",
    "Profile",
    "detect_language",
    "find_tables",
    "legal_scores",
    "profile_document",
    "question_lines",
]

LONG_DOCUMENT_WORDS = 1500
"""Above this many words a document is long: summarize it chunk by chunk."""

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def _set(block: str) -> frozenset[str]:
    return frozenset(block.split())


#: The commonest function words of each language (a few dozen each are plenty).
STOPWORDS: dict[str, frozenset[str]] = {
    "en": _set(
        """the and of to in is that for it on with as was are be this by at from or an have
        not will we you they which but has their our can all would there been if more
        its were he she his her who what when also should"""
    ),
    "fr": _set(
        """le la les de des du et est une un que qui pour dans par sur au aux avec ce cette ne
        pas plus nous vous ils elles sont été être sa son ses leur mais ou comme très aussi
        été lors notre nos votre vos"""
    ),
    "de": _set(
        """der die das und ist nicht ein eine einer einen den dem des zu mit von auf für im
        sich auch es wir sie ich werden wird sind bei aus nach wie oder aber noch nur über
        dass hat haben zum zur unsere unser"""
    ),
    "es": _set(
        """el la los las de del y en un una es que por para con no se su sus al lo como más
        pero este esta son fue ha muy también entre sobre sin hay nos ya está están"""
    ),
    "it": _set(
        """il lo la gli le di del della e è un una che per con non si sono nel nella al
        alla da dei delle come più ma anche questo questa ha essere molto tra sul"""
    ),
    "pt": _set(
        """o a os as do da dos das e em um uma é que para com não se por no na nos nas ao
        mais mas como foi são seu sua também muito pelo pela entre"""
    ),
    "nl": _set(
        """de het een en van is dat op te zijn voor met niet aan er ook als bij door maar om
        dan naar wordt worden deze dit die wij ze hij nog kan heeft over uit tot"""
    ),
}
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "und": "undetermined",
}
_MIN_LANGUAGE_WORDS = 8
_MIN_STOPWORD_SHARE = 0.06
_LANGUAGE_SAMPLE_WORDS = 4000


def detect_language(text: str) -> tuple[str, float]:
    """``(code, confidence)``: the language whose function words are commonest, or ``und``.

    Confidence mixes how much the winner leads the runner-up with how much signal there
    is at all (a 25 % share of function words is typical of running prose).
    """
    tokens = [w.lower() for w in _WORD.findall(text)][:_LANGUAGE_SAMPLE_WORDS]
    if len(tokens) < _MIN_LANGUAGE_WORDS:
        return "und", 0.0
    shares = {
        code: sum(1 for t in tokens if t in words) / len(tokens)
        for code, words in STOPWORDS.items()
    }
    ranked = sorted(shares.items(), key=lambda item: -item[1])  # stable: dict order breaks ties
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < _MIN_STOPWORD_SHARE:
        return "und", 0.0
    lead = (top - second) / top
    strength = min(1.0, top / 0.25)
    return best, round(min(1.0, 0.5 * strength + 0.5 * lead), 2)


# -- tables --------------------------------------------------------------------------------

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•+]\s|\d+[.)]\s)")
_DELIMITERS = ("\t", ";", ",")


def _pipe_cells(line: str) -> list[str] | None:
    stripped = line.strip()
    if "|" not in stripped:
        return None
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|"):
        stripped = stripped[:-1]
    cells = [c.strip() for c in stripped.split("|")]
    return cells if len(cells) >= 2 else None


def _delimited_cells(line: str, delimiter: str) -> list[str] | None:
    if delimiter not in line or _BULLET.match(line):
        return None
    cells = [c.strip() for c in next(csv.reader([line], delimiter=delimiter))]
    if len(cells) < 2:
        return None
    # Wrapped prose has commas too; data cells are short.
    if max(len(c) for c in cells) > 60 or sum(len(c.split()) for c in cells) / len(cells) > 4:
        return None
    return cells


def _line_cells(line: str) -> tuple[str, list[str]] | None:
    cells = _pipe_cells(line)
    if cells is not None:
        return "|", cells
    for delimiter in _DELIMITERS:
        cells = _delimited_cells(line, delimiter)
        if cells is not None:
            return delimiter, cells
    return None


def find_tables(text: str) -> list[dict[str, Any]]:
    """Every table in the text as ``{"columns": [...], "rows": [[...], ...]}``, in order.

    A table is a run of consecutive lines that split, the same way, into the same number
    (two or more) of cells: on pipes (Markdown's separator row is skipped), on tabs, on
    semicolons or on commas. Its first line gives the column names. Comma and semicolon
    runs need three lines (a header and two rows), since prose has commas too.
    """
    tables: list[dict[str, Any]] = []
    block: list[list[str]] = []
    kind: tuple[str, int] | None = None

    def close() -> None:
        nonlocal block, kind
        needed = 3 if kind and kind[0] in (",", ";") else 2
        if kind and len(block) >= needed and any(any(c for c in r) for r in block[1:]):
            tables.append({"columns": block[0], "rows": block[1:]})
        block, kind = [], None

    for line in text.splitlines():
        if kind and kind[0] == "|" and _SEPARATOR.match(line):
            continue
        found = _line_cells(line) if line.strip() else None
        if found is None:
            close()
            continue
        delimiter, cells = found
        if kind != (delimiter, len(cells)):
            close()
            kind = (delimiter, len(cells))
        block.append(cells)
    close()
    return tables


# -- questions, legal wording, meetings -----------------------------------------------------

_QUESTION_MARKUP = re.compile(r"^\s*(?:#{1,6}\s*|[-*•]\s+|\d+[.)]\s+|\*\*|__)*(?:Q\s*[:.]\s*)?")
_Q_PREFIX = re.compile(r"^\s*(?:[-*•]\s+)?(?:\*\*|__)?Q\s*[:.]", re.IGNORECASE)


def question_lines(text: str) -> list[str]:
    """Lines that ask a question (end with '?', or start with 'Q:'), markup removed."""
    found = []
    for line in text.splitlines():
        bare = line.strip().rstrip("*_ ").strip()
        if not bare:
            continue
        if bare.endswith("?") or _Q_PREFIX.match(line):
            question = _QUESTION_MARKUP.sub("", line).strip().strip("*_ ").strip()
            if len(question.split()) >= 2:
                found.append(question)
    return found


LEGAL_CUES: dict[str, tuple[str, ...]] = {
    "licence": (
        r"\blicen[cs](?:e|es|ed|ing|or|ee)\b",
        r"\bcopyright\b",
        r"\bpermission is (?:hereby )?granted\b",
        r"\bwarrant(?:y|ies)\b",
        r"\bas is\b",
        r"\bredistribut\w*",
        r"\bsublicens\w*",
        r"\bliab(?:le|ility|ilities)\b",
        r"\bfree of charge\b",
    ),
    "contract": (
        r"\bagreement\b",
        r"\bthe part(?:y|ies)\b",
        r"\bhereinafter\b",
        r"\bhereby\b",
        r"\bindemnif\w*",
        r"\bterminat(?:e|ion|ed)\b",
        r"\bgoverning law\b",
        r"\bwhereas\b",
        r"\bshall\b",
        r"\bconsideration\b",
    ),
    "policy": (
        r"\bprivacy\b",
        r"\bpersonal (?:data|information)\b",
        r"\bcookies?\b",
        r"\bdata protection\b",
        r"\bwe collect\b",
        r"\bretention\b",
    ),
    "terms": (
        r"\bterms (?:of (?:service|use)|and conditions)\b",
        r"\byou agree\b",
        r"\bacceptable use\b",
        r"\byour account\b",
        r"\bwe may suspend\b",
    ),
}
_LEGAL_RE = {
    kind: [re.compile(p, re.IGNORECASE) for p in patterns] for kind, patterns in LEGAL_CUES.items()
}


def legal_scores(text: str) -> dict[str, int]:
    """How many legal cues of each kind (licence, contract, policy, terms) the text holds."""
    return {
        kind: sum(len(p.findall(text)) for p in patterns) for kind, patterns in _LEGAL_RE.items()
    }


_MEETING_CUES = tuple(
    re.compile(p, re.IGNORECASE | re.MULTILINE)
    for p in (
        r"\battendees\b",
        r"^\W*present\s*:",
        r"\bapologies\b",
        r"\bagenda\b",
        r"\bminutes\b",
        r"\baction items?\b",
        r"^\W*(?:action|todo)\s*:",
        r"\bnext meeting\b",
        r"\bdecisions?\b",
        r"\bmeeting\b",
        r"\bchair(?:ed)?\b",
    )
)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S|^[^\n]+\n[=-]{3,}\s*$", re.MULTILINE)
_FAQ_TITLE = re.compile(r"\bFAQs?\b|frequently asked questions", re.IGNORECASE)


@dataclass(frozen=True)
class Profile:
    """What the planner knows about a document before any step has run."""

    kind: str
    words: int
    lines: int
    long: bool
    headings: int
    bullets: int
    tables: int
    table_columns: list[list[str]]
    has_tables: bool
    questions: int
    language: str
    language_confidence: float
    english: bool
    legal_kind: str
    legal_cues: int
    meeting_cues: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def profile_document(text: str) -> Profile:
    """The document's kind, length, structure and language (see the module docstring)."""
    text = text or ""
    words = len(_WORD.findall(text))
    lines = [line for line in text.splitlines() if line.strip()]
    tables = find_tables(text)
    table_lines = sum(1 + len(t["rows"]) for t in tables)
    questions = question_lines(text)
    language, confidence = detect_language(text)
    english = language in ("en", "und")
    scores = legal_scores(text)
    legal_cues = sum(scores.values())
    legal_kind = max(scores, key=lambda k: scores[k]) if legal_cues else "other"
    meeting = sum(1 for p in _MEETING_CUES if p.search(text))
    bullets = sum(1 for line in lines if _BULLET.match(line))

    if lines and table_lines / len(lines) >= 0.6:
        kind = "tabular"
    elif legal_cues >= 6 and legal_cues * 100 / max(words, 1) >= 1.5:
        kind = "legal"
    elif len(questions) >= 3 and (
        len(questions) / max(len(lines), 1) >= 0.12 or _FAQ_TITLE.search(text[:300])
    ):
        kind = "faq"
    elif meeting >= 3:
        kind = "meeting_notes"
    elif words >= 60:
        kind = "article"
    else:
        kind = "other"
    return Profile(
        kind=kind,
        words=words,
        lines=len(lines),
        long=words > LONG_DOCUMENT_WORDS,
        headings=len(_HEADING.findall(text)),
        bullets=bullets,
        tables=len(tables),
        table_columns=[list(t["columns"]) for t in tables],
        has_tables=bool(tables),
        questions=len(questions),
        language=language,
        language_confidence=confidence,
        english=english,
        legal_kind=legal_kind,
        legal_cues=legal_cues,
        meeting_cues=meeting,
    )
