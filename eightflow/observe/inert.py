"""Outputs are inert: text from documents, file names and models cannot act where it lands.

- ``csv_cell``: a spreadsheet evaluates a cell starting with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return as a formula. Following OWASP's CSV-injection guidance such a
  cell gets a leading single quote, so it is shown as text. Parquet keeps the raw value.
- ``md_text``: model text and file names go into markdown artifacts and ``report.md``
  with markdown's active characters escaped: no links, images (which would fetch a URL
  when the page renders), raw HTML, headings or table breaks out of them.
- ``console_text``: rich markup in a name (``notes[``) is shown literally, never parsed.

A leaf module: it imports nothing from eightflow.
"""

from __future__ import annotations

import re
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value safe for a spreadsheet cell (strings only; numbers stay numbers)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# Code spans need backticks, tables pipes, headings a hash; raw HTML and autolinks need
# angle brackets (turned into entities below). A link or image needs a ``]`` followed by
# ``(``, ``[`` or ``:``; escaping that ``]`` is enough, so ``[REDACTED]`` stays readable.
_MD_ACTIVE = re.compile(r"([\\`#|]|\](?=[(\[:]))")


def md_text(value: Any) -> str:
    """Text shown as itself in markdown: specials escaped, HTML made harmless."""
    text = str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_ACTIVE.sub(r"\\\1", text)


def md_cell(value: Any) -> str:
    """``md_text`` for a table cell: one line."""
    return " ".join(md_text(value).splitlines())


def console_text(value: Any) -> str:
    """Text for a rich console: markup characters shown literally."""
    from rich.markup import escape

    return escape(str(value))
