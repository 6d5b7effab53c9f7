"""DOCX loader (python-docx), guarded against zip bombs.

A DOCX is a zip archive. python-docx inflates whatever the archive's parts claim to
hold, so a tiny hostile file can expand to gigabytes in memory. The central directory
(read without inflating anything) declares every member's sizes up front, and
:func:`check_zip` rejects suspicious archives from those numbers before python-docx
opens the file. Python's ``zipfile`` never inflates past a member's declared size, so
the declared sizes are a real bound, not just a hint.
"""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

from eightflow_app.tasks.loading.limits import LoadLimits, MiB
from eightflow_app.tasks.loading.textutil import Extracted, clean_title

from eightflow.errors import DocumentError

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import Table
    from docx.text.paragraph import Paragraph

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_MAIN_PART = "word/document.xml"


def _size(n: int) -> str:
    return f"{n / MiB:,.1f} MiB" if n >= MiB else f"{n:,} bytes"


def check_zip(archive: zipfile.ZipFile, limits: LoadLimits) -> None:
    """Reject zip bombs from the central directory alone: nothing is decompressed here."""
    members = archive.infolist()
    if len(members) > limits.max_zip_members:
        raise DocumentError(
            f"zip bomb suspected: {len(members):,} archive members "
            f"(limit {limits.max_zip_members:,})"
        )
    total = 0
    for info in members:
        total += info.file_size
        if info.file_size > limits.zip_ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_zip_ratio:
                raise DocumentError(
                    f"zip bomb suspected: member {info.filename!r} expands "
                    f"{ratio:,.0f}:1 to {_size(info.file_size)} "
                    f"(limit {limits.max_zip_ratio:,.0f}:1)"
                )
    if total > limits.max_unpacked_bytes:
        raise DocumentError(
            f"zip bomb suspected: unpacks to {_size(total)} "
            f"(limit {_size(limits.max_unpacked_bytes)})"
        )


def load_docx(data: bytes, limits: LoadLimits) -> Extracted:
    """A ``.docx``: body paragraphs and tables in document order.

    Headers, footers, footnotes and comments are left out: they repeat on every page or
    sit outside the main text, and would add noise to extraction. Table rows become
    ``cell | cell`` lines; list-styled paragraphs get a ``- `` bullet.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise DocumentError(f"corrupt DOCX: not a valid zip archive ({exc})") from exc
    with archive:
        check_zip(archive, limits)
        if _MAIN_PART not in archive.namelist():
            raise DocumentError(f"corrupt DOCX: no {_MAIN_PART} (not a Word document)")

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document))
    except DocumentError:
        raise
    except Exception as exc:  # python-docx/lxml/zipfile errors all mean a broken file
        message = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DocumentError(f"corrupt DOCX: {message}") from exc

    text_parts: list[str] = []
    previous_kind = ""
    for kind, text in blocks:
        if text_parts:
            text_parts.append("\n" if kind == previous_kind == "list" else "\n\n")
        text_parts.append(text)
        previous_kind = kind

    return Extracted(
        text="".join(text_parts),
        loader="docx:python-docx",
        media_type=DOCX_MEDIA_TYPE,
        title=_core_title(document) or _styled_title(blocks),
    )


def _style_name(paragraph: Paragraph) -> str:
    try:
        style = paragraph.style
        return str(style.name) if style is not None and style.name else ""
    except Exception:  # a paragraph pointing at a missing style is still text
        return ""


def _blocks(document: DocxDocument) -> list[tuple[str, str]]:
    """``(kind, text)`` for each non-empty body block; kind is heading/list/para/table."""
    from docx.table import Table

    blocks: list[tuple[str, str]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            text = _table_text(item)
            if text:
                blocks.append(("table", text))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = _style_name(item)
        if style == "Title" or style.startswith("Heading"):
            blocks.append(("heading", text))
        elif style.startswith("List"):
            blocks.append(("list", f"- {text}"))
        else:
            blocks.append(("para", text))
    return blocks


def _table_text(table: Table) -> str:
    """One line per row, cells joined by `` | ``; merged cells are listed once."""
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if previous is not None and cell._tc is previous:  # horizontally merged
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _core_title(document: DocxDocument) -> str | None:
    try:
        return clean_title(document.core_properties.title)
    except Exception:  # a malformed docProps/core.xml should not sink the body text
        return None


def _styled_title(blocks: list[tuple[str, str]]) -> str | None:
    for kind, text in blocks:
        if kind == "heading":
            return clean_title(text)
    return None
