"""HTML loader: readable text from a web page, without its scripts, styles or markup.

``get_text()`` alone runs words from adjacent blocks together ("Heading" + "First para"
becomes "HeadingFirst para") and loses table structure, which hurts extraction prompts.
This walker emits blank lines around block elements, one line per list item, and table
rows as ``cell | cell``, while keeping ``<pre>`` blocks verbatim.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, Tag
from bs4.element import ProcessingInstruction
from eightflow_app.tasks.loading.limits import LoadLimits
from eightflow_app.tasks.loading.textutil import Extracted, clean_title, decode_text

from eightflow.errors import DocumentError

DROPPED_TAGS = ("script", "style", "noscript", "template")
"""Elements whose content is never reader-visible text."""

_SKIPPED_WHEN_WALKING = frozenset({"head", "title", "meta", "link", "svg", "iframe"})
_PARAGRAPH_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "dl", "hr"}
)
_LINE_TAGS = frozenset(
    {
        "div", "section", "article", "header", "footer", "main", "aside", "nav",
        "figure", "figcaption", "address", "form", "fieldset", "details", "summary",
        "dt", "dd", "caption", "body", "html",
    }
)  # fmt: skip
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_WHITESPACE = re.compile(r"\s+")
_SPACES = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE = re.compile(r" *\n *")
_EMPTY_BULLET = re.compile(r"^- *\n+(?=\S)", re.MULTILINE)
_GAP_BETWEEN_BULLETS = re.compile(r"^(- .*)\n\n+(?=- )", re.MULTILINE)


class _Pre(str):
    """Preformatted text: emitted as is, exempt from whitespace collapsing."""


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in a ``<meta>`` tag within its first KiB, if any."""
    match = _META_CHARSET.search(data[:1024])
    return match.group(1).decode("ascii") if match else None


def load_html(data: bytes, limits: LoadLimits) -> Extracted:
    """An ``.html``/``.htm`` page: title from ``<title>``, else the first ``<h1>``."""
    markup, encoding = decode_text(data, declared=declared_charset(data))
    try:
        soup = BeautifulSoup(markup, "html.parser")
    except Exception as exc:  # html.parser is lenient; anything it raises means garbage
        raise DocumentError(f"unparseable HTML: {exc}") from exc

    for tag in soup.find_all(list(DROPPED_TAGS)):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()

    title = None
    if soup.title is not None:
        title = clean_title(soup.title.get_text(" "))
    if not title:
        h1 = soup.find("h1")
        if h1 is not None:
            title = clean_title(h1.get_text(" "))

    root = soup.body or soup
    pieces: list[str] = []
    _walk(root, pieces)
    return Extracted(
        text=_assemble(pieces),
        loader="html:bs4",
        media_type="text/html",
        title=title,
        encoding=encoding,
    )


def _cell_text(cell: Tag) -> str:
    return " ".join(cell.get_text(" ").split())


def _walk(node: Tag, out: list[str]) -> None:
    """Append ``node``'s visible text to ``out``, with newlines standing for block edges."""
    for child in node.children:
        if isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
            continue
        if isinstance(child, NavigableString):
            out.append(_WHITESPACE.sub(" ", str(child)))  # source newlines are not breaks
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name in _SKIPPED_WHEN_WALKING:
            continue
        if name == "br":
            out.append("\n")
        elif name == "pre":
            out.append("\n\n")
            out.append(_Pre(child.get_text()))
            out.append("\n\n")
        elif name == "tr":
            cells = [_cell_text(c) for c in child.find_all(("td", "th"), recursive=False)]
            if any(cells):
                out.append("\n" + " | ".join(cells))
        elif name == "li":
            out.append("\n- ")
            _walk(child, out)
        elif name in _PARAGRAPH_TAGS:
            out.append("\n\n")
            _walk(child, out)
            out.append("\n\n")
        elif name in _LINE_TAGS:
            out.append("\n")
            _walk(child, out)
            out.append("\n")
        else:
            _walk(child, out)


def _assemble(pieces: list[str]) -> str:
    """Join walked pieces, collapsing HTML's insignificant whitespace outside ``<pre>``."""
    parts: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        flowing = _SPACES.sub(" ", "".join(buffer))
        flowing = _SPACE_AROUND_NEWLINE.sub("\n", flowing)
        flowing = _EMPTY_BULLET.sub("- ", flowing)  # <li><p>x</p></li> -> "- x"
        parts.append(_GAP_BETWEEN_BULLETS.sub(r"\1\n", flowing))
        buffer.clear()

    for piece in pieces:
        if isinstance(piece, _Pre):
            flush()
            parts.append(piece.strip("\n"))
        else:
            buffer.append(piece)
    flush()
    return "".join(parts)
