"""Outputs are inert: text from documents, file names and models cannot act where it lands.

- ``csv_cell`` / ``csv_value``: the one codec of a ``results.csv`` cell. A spreadsheet
  evaluates a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as
  a formula. Following OWASP's CSV-injection guidance such a cell gets a leading single
  quote, so it is shown as text; so does a cell that itself starts with a quote (a
  spreadsheet hides one leading quote), which makes the escape reversible: ``csv_value``
  gives back exactly the value written, and whoever matches a row by its id (``review
  decide``) compares decoded values. Parquet keeps the raw value.
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
_QUOTED = (*_FORMULA_START, "'")


def csv_cell(value: Any) -> Any:
    """A value safe for a spreadsheet cell (strings only; numbers stay numbers)."""
    if isinstance(value, str) and value.startswith(_QUOTED):
        return "'" + value
    return value


def csv_value(cell: Any) -> Any:
    """The value a ``csv_cell`` was made from: ``csv_value(csv_cell(v)) == v``."""
    if isinstance(cell, str) and cell.startswith("'") and cell[1:].startswith(_QUOTED):
        return cell[1:]
    return cell


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
