"""Outputs are inert: text from documents, file names and models cannot act where it lands.

- ``csv_cell`` / ``csv_value``: the one codec of a ``results.csv`` cell. A spreadsheet
  evaluates a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as
  a formula. Following OWASP's CSV-injection guidance such a cell gets a leading single
  quote, so it is shown as text; so does a cell that itself starts with a quote (a
  spreadsheet hides one leading quote), which makes the escape reversible: ``csv_value``
  gives back exactly the value written, and whoever matches a row by its id (``review
  decide``) compares decoded values. Parquet keeps the raw value.
- ``md_text``: model text, file names, reviewers' names and notes go into markdown
  artifacts, ``report.md`` and review forms with markdown's active characters escaped: no
  links, images (which would fetch a URL when the page renders), raw HTML (``html_text``),
  headings or table breaks out of them. ``md_cell`` is the same on one line: a table cell,
  a heading, a list item; ``md_code`` a code span.
- ``console_text``: rich markup in a name (``notes[``, ``[bold]``) is shown literally,
  never parsed.

The one renderer of untrusted text: every place a human- or document-supplied string
lands calls one of these. A leaf module: it imports nothing from eightflow.
"""

from __future__ import annotations

import html
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


def html_text(value: Any) -> str:
    """Text shown as itself in HTML (and so in markdown, which passes HTML through)."""
    return html.escape(str(value), quote=False)


def md_text(value: Any) -> str:
    """Text shown as itself in markdown: specials escaped, HTML made harmless."""
    return _MD_ACTIVE.sub(r"\\\1", html_text(value))


def md_cell(value: Any) -> str:
    """``md_text`` for a table cell: one line."""
    return " ".join(md_text(value).splitlines())


def md_code(value: Any) -> str:
    """A code span showing ``value``: backslashes do not escape inside one, so a backtick
    (which would close it) becomes a quote, a newline a space, a pipe is escaped (tables)."""
    text = " ".join(str(value).splitlines()).replace("`", "'").replace("|", "\\|")
    return f"`{text}`"


def console_text(value: Any) -> str:
    """Text for a rich console: markup characters shown literally."""
    from rich.markup import escape

    return escape(str(value))
