"""Rule lists and gazetteers of the embedded model, read from ``eightflow/embedded/data``.

Lists are data, not code: each file holds one entry per line, ``#`` starts a comment
(``\\#`` is a literal one) and blank lines are ignored. Files ship as package data and
are read once through :mod:`importlib.resources`, so an installed wheel works offline.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

__all__ = ["data_lines", "data_patterns", "data_words"]

_COMMENT = re.compile(r"(?<!\\)#.*$")


@cache
def data_lines(name: str) -> tuple[str, ...]:
    """The entries of ``data/<name>``, in file order, comments and blanks removed."""
    raw = files("eightflow.embedded").joinpath("data", name).read_text(encoding="utf-8")
    entries = []
    for line in raw.splitlines():
        entry = _COMMENT.sub("", line).replace("\\#", "#").strip()
        if entry:
            entries.append(entry)
    return tuple(entries)


@cache
def data_words(name: str) -> frozenset[str]:
    """The entries of ``data/<name>`` as a set (for membership tests)."""
    return frozenset(data_lines(name))


@cache
def data_patterns(name: str) -> tuple[re.Pattern[str], ...]:
    """The entries of ``data/<name>`` compiled as regular expressions."""
    return tuple(re.compile(entry) for entry in data_lines(name))
