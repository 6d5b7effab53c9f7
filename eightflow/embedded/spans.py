"""Bookkeeping for the entity extractor: claimed spans, merged entities and aliases.

Entity passes share one mutable record. ``masked`` is the text with every claimed span
overwritten by NUL characters, so later passes cannot match inside an earlier entity (no
person from the parts of an email address) and regex boundaries still line up with the
original offsets. Entities merge case-insensitively and keep the surface form of their
earliest mention, so the output order is "first appearance" whatever pass found them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eightflow.embedded.text import STOPWORDS

__all__ = ["MASK", "Extraction", "alternation", "entity_key"]

MASK = "\x00"
_WORD_BEFORE = re.compile(r"([^\W\d_][\w'’.&-]*)[ \t]+$")
_WORD_AFTER = re.compile(r"[ \t]+([^\W\d_][\w'’&-]*)")


def alternation(names: Iterable[str]) -> str:
    """Regex alternation of literal names, longest first so "New York City" beats "New York"."""
    return "|".join(re.escape(n) for n in sorted(set(names), key=lambda n: (-len(n), n)))


def entity_key(surface: str) -> str:
    """Merge key: case, spacing, commas and a final period do not make a new entity."""
    return " ".join(surface.lower().replace(",", " ").split()).rstrip(".")


@dataclass
class Entity:
    text: str
    type: str
    first: int
    count: int = 1


class Extraction:
    """The text, a masked copy that hides claimed spans, and the entities found so far."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.masked = text
        self.entities: dict[str, Entity] = {}
        #: alias surface -> (entity key, or None when ambiguous; position it applies from)
        self.aliases: dict[str, tuple[str | None, int]] = {}

    def add(self, start: int, type_: str, surface: str, key: str | None = None) -> str:
        """Count one mention; returns the entity's key."""
        surface = " ".join(surface.split())
        key = key or entity_key(surface)
        entity = self.entities.get(key)
        if entity is None:
            self.entities[key] = Entity(surface, type_, start)
        else:
            entity.count += 1
            if start < entity.first:
                entity.first, entity.text = start, surface
        return key

    def mask(self, spans: list[tuple[int, int]]) -> None:
        """Claim ``spans`` (one rebuild per pass keeps long documents linear)."""
        if not spans:
            return
        pieces, last = [], 0
        for start, end in sorted(spans):
            start = max(start, last)
            pieces += [self.masked[last:start], MASK * max(end - start, 0)]
            last = max(last, end)
        pieces.append(self.masked[last:])
        self.masked = "".join(pieces)

    def scan(
        self,
        pattern: re.Pattern[str],
        type_: str,
        accept: Callable[[str], bool] | None = None,
    ) -> None:
        """Add every match of ``pattern`` (its group ``e`` if it has one) as ``type_``."""
        spans = []
        group = "e" if "e" in pattern.groupindex else 0
        for match in pattern.finditer(self.masked):
            start, end = match.span(group)
            surface = match.group(group)
            if accept is None or accept(surface):
                self.add(start, type_, surface)
                spans.append((start, end))
        self.mask(spans)

    def alias(self, name: str, key: str, position: int) -> None:
        """Let ``name`` stand for entity ``key`` from ``position`` on (unless ambiguous)."""
        if len(name) < 2 or (name.lower() in STOPWORDS and not name.isupper()):
            return
        previous = self.aliases.get(name)
        if previous is None:
            self.aliases[name] = (key, position)
        elif previous[0] != key:
            self.aliases[name] = (None, previous[1])

    def resolve(self, surface: str, start: int) -> str | None:
        """The entity an alias at ``start`` refers to, if any."""
        key, since = self.aliases.get(surface, (None, 0))
        return key if key is not None and since <= start else None

    def sentence_initial(self, start: int) -> bool:
        i = start - 1
        while i >= 0 and self.text[i] in " \t\"'“‘(":
            i -= 1
        return i < 0 or self.text[i] in ".!?:\n"

    def word_before(self, start: int) -> str:
        """The word just before ``start`` on the same line ("" if none)."""
        match = _WORD_BEFORE.search(self.masked, max(0, start - 40), start)
        return match.group(1) if match else ""

    def word_after(self, end: int) -> str:
        """The word just after ``end`` on the same line ("" if none)."""
        match = _WORD_AFTER.match(self.masked, end, end + 40)
        return match.group(1) if match else ""

    def result(self) -> list[dict[str, object]]:
        ordered = sorted(self.entities.items(), key=lambda kv: (kv[1].first, kv[0]))
        return [{"text": e.text, "type": e.type, "count": e.count} for _, e in ordered]
