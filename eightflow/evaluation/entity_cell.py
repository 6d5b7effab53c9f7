"""The ``expected_entities`` cell: ``text|type`` pairs separated by ``;``, one codec.

``eightflow review export`` writes the cell with :func:`encode_entity_pairs` and
``eightflow eval`` reads it with :func:`decode_entity_pairs`, so an entity reads back as
it was written whatever it holds: a backslash, ``|`` or ``;`` inside a text (or a type)
is written with a backslash before it. Hand-written cells keep working: without
backslashes, a pair's type is the part after its last ``|``, as it always was.
"""

from __future__ import annotations

from collections.abc import Iterable

from eightflow.evaluation.results import EvaluationError

PAIR, ITEM, ESCAPE = "|", ";", "\\"
_SPECIAL = (ESCAPE, PAIR, ITEM)


def _escape(value: str) -> str:
    for char in _SPECIAL:  # the escape character first, so its own escapes stay single
        value = value.replace(char, ESCAPE + char)
    return value


def encode_entity_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """``[("AT&T | Co", "organization")]`` -> ``AT&T \\| Co|organization``."""
    return ITEM.join(f"{_escape(text)}{PAIR}{_escape(kind)}" for text, kind in pairs)


def _split(cell: str) -> list[list[str]]:
    """The cell's items, each as its parts between unescaped ``|``, unescaped."""
    items: list[list[str]] = []
    parts: list[str] = []
    current: list[str] = []
    chars = iter(cell)
    for char in chars:
        if char == ESCAPE:
            current.append(next(chars, ESCAPE))  # a trailing backslash is itself
        elif char == PAIR:
            parts.append("".join(current))
            current = []
        elif char == ITEM:
            items.append([*parts, "".join(current)])
            parts, current = [], []
        else:
            current.append(char)
    items.append([*parts, "".join(current)])
    return items


def decode_entity_pairs(cell: str, where: str = "") -> list[tuple[str, str]]:
    """The ``(text, type)`` pairs of a cell, as written (not normalized); blank items are
    skipped, an item without a type is an :class:`EvaluationError` naming ``where``."""
    pairs = []
    for parts in _split(cell or ""):
        if len(parts) == 1 and not parts[0].strip():
            continue
        text, kind = PAIR.join(parts[:-1]), parts[-1]
        if len(parts) < 2 or not text.strip():
            shown = PAIR.join(parts).strip()
            raise EvaluationError(f"{where}: '{shown}' is not a 'text|type' pair")
        pairs.append((text, kind))
    return pairs
