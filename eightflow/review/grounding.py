"""Grounding: a model's answer is checked against its document before it is trusted.

A hosted model can name an entity the document never mentions, or cite a figure that is
not in it, with full confidence; a confidence threshold does not catch that. This check is
deterministic and free (no second model call). It reads the answer's fields by name, so it
works for every output schema that uses the shipped field names:

- **Quoted fields** (``entities[].text``, ``owner``, ``due``) claim to be text of the
  document: each must occur in it, compared after normalising case, Unicode forms,
  whitespace and punctuation, on word boundaries.
- **Prose fields** (``summary``, ``key_points[]``, ``answer``, ``action``) may paraphrase,
  but every figure in them (numbers, amounts, percentages, years and day numbers of dates)
  and every proper name (a capitalised word that does not open a sentence, or a run of
  them) must occur in the document.
- **Keyphrases** (``keyphrases[].phrase``) are checked loosely: each content word, with a
  plural or verb ending taken off, must occur. Topic *labels* (``topics[]``) are not
  checked: they name a subject ("Finance") rather than quote the text, and a check there
  flagged most correct answers.

What the sanitizer redacted (``[REDACTED]``) is left out of the comparison: the document
held the secret, the answer only its marker.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Grounding", "GroundingDocument", "check_answer", "normalize"]

REDACTED = "[REDACTED]"
QUOTED_FIELDS = frozenset({"text", "owner", "due"})
PROSE_FIELDS = frozenset({"summary", "key_points", "answer", "action"})
LOOSE_FIELDS = frozenset({"phrase"})
MAX_REASONS = 5

_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
# A word starts at a word boundary: the "EX" of a postcode's "1EX" is not a name.
_WORD = re.compile(r"(?<!\w)[^\W\d_][\w'’-]*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;]\s+|\n")
_ENDINGS = ("ies", "es", "s", "ing", "ed")
# Capitalised words that are not names: sentence openers a paraphrase may use mid-sentence
# after a colon or a quote, month and day names are checked as names (a date is a claim).
_NOT_NAMES = frozenset({"i", "i'm", "i've", "ok", "the", "a", "an"})


class Grounding(BaseModel):
    """Whether an answer is grounded in its document, and why not."""

    model_config = ConfigDict(frozen=True)

    grounded: bool
    reasons: tuple[str, ...] = ()
    checked: int = 0

    @property
    def reason(self) -> str:
        """One line for a review item or a results row: ``ungrounded: ...``."""
        return "" if self.grounded else "ungrounded: " + "; ".join(self.reasons)


def normalize(text: str) -> str:
    """Case, Unicode forms, punctuation and whitespace folded, padded for word matching."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace(REDACTED.casefold(), " ")
    return " " + _SPACES.sub(" ", _PUNCTUATION.sub(" ", folded)).strip() + " "


class GroundingDocument:
    """The document, prepared once for many lookups (every step of a run checks it)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.normalized = normalize(text)

    # Built on first use: an answer without keyphrases or figures never pays for them.
    @cached_property
    def stems(self) -> frozenset[str]:
        return frozenset(_stem(w) for w in set(self.normalized.split()))

    @cached_property
    def figures(self) -> frozenset[str]:
        return frozenset(_figure_forms(self.text))

    def quotes(self, phrase: str) -> bool:
        needle = normalize(phrase)
        return needle.strip() == "" or needle in self.normalized

    def has_figure(self, figure: str) -> bool:
        return bool(_figure_forms(figure) & self.figures)


def _stem(word: str) -> str:
    for ending in _ENDINGS:
        if len(word) > len(ending) + 2 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def _figure_forms(text: str) -> set[str]:
    """Each number written in ``text``, in the forms it can be compared by.

    ``1,200`` and ``1200`` are one figure; so are ``3.50`` and ``3.5``. A decimal comma
    (``3,5``) is also read as ``3.5``.
    """
    forms = set()
    for raw in _FIGURE.findall(unicodedata.normalize("NFKC", text)):
        forms.add(raw)
        plain = raw.replace(",", "")
        forms.add(plain)
        forms.add(_trim_decimal(plain))
        if raw.count(",") == 1 and "." not in raw:
            forms.add(_trim_decimal(raw.replace(",", ".")))
    return forms


def _trim_decimal(number: str) -> str:
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return number


def _names(prose: str) -> Iterator[str]:
    """Proper names in prose: capitalised words that do not open a sentence, as runs."""
    for sentence in _SENTENCE_END.split(prose):
        words = list(_WORD.finditer(sentence))
        run: list[str] = []
        for index, match in enumerate(words):
            word = match.group(0)
            capital = word[:1].isupper() and word.casefold() not in _NOT_NAMES
            opener = index == 0 and not (len(words) > 1 and words[1].group(0)[:1].isupper())
            # A name is written as one run: anything but a space between two words ends it.
            joined = index > 0 and not sentence[words[index - 1].end() : match.start()].strip()
            if run and not joined:
                yield " ".join(run)
                run = []
            if capital and not opener:
                run.append(word)
                continue
            if run:
                yield " ".join(run)
            run = []
        if run:
            yield " ".join(run)


def _fields(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """``(field name, text)`` for every string in an answer, lists and models included."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _fields(item, str(name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _fields(item, key)
    elif isinstance(value, str) and value.strip():
        yield key, value


def check_answer(answer: Any, document_text: str | GroundingDocument) -> Grounding:
    """Check one step's answer (a pydantic model, a dict or text) against its document."""
    document = (
        document_text
        if isinstance(document_text, GroundingDocument)
        else GroundingDocument(document_text)
    )
    reasons: list[str] = []
    checked = 0
    for field, text in _fields(answer, "summary" if isinstance(answer, str) else ""):
        if field in QUOTED_FIELDS:
            checked += 1
            if not document.quotes(text):
                reasons.append(f"{field} {text[:60]!r} is not in the document")
        elif field in LOOSE_FIELDS:
            checked += 1
            missing = [w for w in normalize(text).split() if _stem(w) not in document.stems]
            if missing and len(missing) * 2 > len(normalize(text).split()):
                reasons.append(f"keyphrase {text[:60]!r} is not in the document")
        elif field in PROSE_FIELDS:
            for figure in _FIGURE.findall(text):
                checked += 1
                if not document.has_figure(figure):
                    reasons.append(f"{field} cites {figure!r}, which the document does not")
            for name in _names(text.replace(REDACTED, " ")):
                checked += 1
                if not document.quotes(name):
                    reasons.append(f"{field} names {name[:60]!r}, which the document does not")
    unique = tuple(dict.fromkeys(reasons))
    return Grounding(grounded=not unique, reasons=unique[:MAX_REASONS], checked=checked)
