"""PDF loader (pypdf): text layer per page, with encryption and page-count guards.

pypdf raises a zoo of exception types on malformed files (its own errors, but also
``KeyError``, ``ValueError``, ``struct.error``...), so everything it raises while parsing
is reported as "corrupt PDF" with its message: the user's fix is the same in every case.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from eightflow_app.tasks.loading.limits import LoadLimits
from eightflow_app.tasks.loading.textutil import Extracted, clean_title, first_line_title

from eightflow.errors import DocumentError

if TYPE_CHECKING:
    from pypdf import PdfReader

_JUNK_TITLES = frozenset({"untitled", "title", "document", "microsoft word", "none"})


def _short(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message[:200]


def load_pdf(data: bytes, limits: LoadLimits) -> Extracted:
    """A ``.pdf``: text of every page joined by blank lines; ``pages`` is the page count.

    Encrypted files are tried with the empty password first, since many PDFs are
    "encrypted" only to set permissions and open without one. A PDF whose pages carry no
    text at all is almost always a scan; it fails with a hint instead of loading as empty.
    """
    from pypdf import PasswordType, PdfReader

    if b"%PDF-" not in data[:1024]:
        raise DocumentError("corrupt PDF: no %PDF header (not a PDF file)")

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except Exception as exc:
        raise DocumentError(f"corrupt PDF: {_short(exc)}") from exc

    if reader.is_encrypted:
        try:
            result = reader.decrypt("")
        except Exception as exc:  # e.g. an unsupported algorithm or missing crypto dep
            raise DocumentError(f"encrypted PDF (cannot decrypt: {_short(exc)})") from exc
        if result == PasswordType.NOT_DECRYPTED:
            raise DocumentError("encrypted PDF (password required)")

    try:
        page_count = len(reader.pages)
    except Exception as exc:
        raise DocumentError(f"corrupt PDF: {_short(exc)}") from exc
    if page_count == 0:
        raise DocumentError("corrupt PDF: no pages")
    if page_count > limits.max_pages:
        raise DocumentError(f"too many pages: {page_count:,} (limit {limits.max_pages:,})")

    texts: list[str] = []
    total = 0
    for number in range(page_count):
        try:
            page_text = reader.pages[number].extract_text() or ""
        except Exception as exc:
            raise DocumentError(f"corrupt PDF: page {number + 1}: {_short(exc)}") from exc
        total += len(page_text)
        if total > limits.max_chars * 2:  # early stop; the exact check runs on clean text
            raise DocumentError(
                f"too long: over {limits.max_chars:,} characters of text "
                f"(limit {limits.max_chars:,})"
            )
        texts.append(page_text.strip())

    title = _metadata_title(reader)

    text = "\n\n".join(t for t in texts if t)
    return Extracted(
        text=text,
        loader="pdf:pypdf",
        media_type="application/pdf",
        title=title or first_line_title(text),
        pages=page_count,
        empty_reason="no extractable text (scanned PDF?)",
    )


def _metadata_title(reader: PdfReader) -> str | None:
    """The document-information title, unless it is missing, broken or boilerplate."""
    try:
        metadata = reader.metadata
        raw = metadata.title if metadata is not None else None
    except Exception:
        return None
    title = clean_title(str(raw)) if raw else None
    if title is None or title.lower() in _JUNK_TITLES:
        return None
    return title
