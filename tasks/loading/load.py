"""``load_document``: one file in, one :class:`Document` out, or a ``DocumentError`` why not.

A batch is only as robust as its worst file, so every way a file can be bad ends in a
``DocumentError`` with a short reason the results table can show ("encrypted PDF
(password required)", "broken link to ../old.pdf"). The caller records it and moves on.

Checks run cheapest first: ``lstat`` (missing, broken link, directory), the suffix, the
size from ``stat``, and only then a read of at most ``max_bytes + 1`` bytes, so neither a
huge file nor an unsupported one is ever read in full.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from eightflow_app.tasks.loading.docx_loader import load_docx
from eightflow_app.tasks.loading.limits import LoadLimits, MiB
from eightflow_app.tasks.loading.pdf_loader import load_pdf
from eightflow_app.tasks.loading.text_loader import load_csv, load_markdown, load_text, load_tsv
from eightflow_app.tasks.loading.textutil import Extracted, normalize_text

from eightflow.documents import Document
from eightflow.errors import DocumentError
from eightflow.safety.path_roots import check_readable, open_readable
from eightflow.settings import user_path

Loader = Callable[[bytes, LoadLimits], Extracted]


def load_html(data: bytes, limits: LoadLimits) -> Extracted:
    """The HTML loader, imported on first use: BeautifulSoup and soupsieve cost ~80 ms of
    every ``eightflow run`` start-up that reads no HTML (the PDF loader defers pypdf too)."""
    from eightflow_app.tasks.loading.html_loader import load_html as load

    return load(data, limits)


_LOADERS: dict[str, Loader] = {
    ".txt": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".csv": load_csv,
    ".tsv": load_tsv,
}

SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(sorted(_LOADERS))
"""Lower-case file suffixes ``load_document`` can read; matching is case-insensitive."""

DEFAULT_LIMITS = LoadLimits()


def _size(n: int) -> str:
    return f"{n / MiB:,.1f} MiB" if n >= MiB else f"{n:,} bytes"


def load_document(
    path: Path | str,
    root: Path | str | None = None,
    limits: LoadLimits | None = None,
) -> Document:
    """Read and normalize one document.

    ``id`` is the path relative to ``root`` in POSIX form (the file name when ``root`` is
    None), so results are keyed the same on every machine. Raises ``DocumentError``, with
    ``path`` set to the absolute path, for anything wrong with the file itself.
    """
    limits = limits or DEFAULT_LIMITS
    absolute = Path(os.path.abspath(user_path(path)))
    try:
        check_readable(absolute)  # after following links, inside EIGHTFLOW_DATA_ROOTS
        doc_id = _document_id(absolute, root)
        info = _check_file(absolute)
        loader = _loader_for(absolute)
        _check_size(info.st_size, limits)
        data = _read_bounded(absolute, limits)
        extracted = loader(data, limits)
        text = normalize_text(extracted.text)
        if not text.strip():
            raise DocumentError(extracted.empty_reason)
        if len(text) > limits.max_chars:
            raise DocumentError(
                f"too long: {len(text):,} characters of text (limit {limits.max_chars:,})"
            )
    except DocumentError as exc:
        if exc.path is None:
            exc.path = str(absolute)
        raise

    return Document(
        id=doc_id,
        path=str(absolute),
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        media_type=extracted.media_type,
        loader=extracted.loader,
        title=extracted.title,
        text=text,
        chars=len(text),
        pages=extracted.pages,
        encoding=extracted.encoding,
    )


def _document_id(absolute: Path, root: Path | str | None) -> str:
    if root is None:
        return absolute.name
    root_abs = Path(os.path.abspath(user_path(root)))
    try:
        return absolute.relative_to(root_abs).as_posix()
    except ValueError:
        pass
    # The root or the file may have been given through a symlinked directory.
    real_parent = Path(os.path.realpath(absolute.parent))
    try:
        return (real_parent / absolute.name).relative_to(os.path.realpath(root_abs)).as_posix()
    except ValueError:
        raise DocumentError(f"not inside the batch root {root_abs}") from None


def _check_file(absolute: Path) -> os.stat_result:
    """``stat`` of the file a path names, with a readable reason when there is none."""
    try:
        info = os.lstat(absolute)
    except FileNotFoundError:
        raise DocumentError("file not found") from None
    except PermissionError:
        raise DocumentError("permission denied (cannot reach file)") from None
    except OSError as exc:
        raise DocumentError(f"unreadable: {exc.strerror or exc}") from None

    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(absolute)
        except FileNotFoundError:
            raise DocumentError(f"broken link to {os.readlink(absolute)}") from None
        except OSError as exc:  # ELOOP and friends
            raise DocumentError(f"broken link ({exc.strerror or exc})") from None

    if stat.S_ISDIR(info.st_mode):
        raise DocumentError("is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise DocumentError("not a regular file (device, socket or pipe)")
    return info


def _loader_for(absolute: Path) -> Loader:
    suffix = absolute.suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        what = f"'{suffix}'" if suffix else "(no extension)"
        raise DocumentError(
            f"unsupported file type {what}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    return loader


def _check_size(size: int, limits: LoadLimits) -> None:
    if size == 0:
        raise DocumentError("empty file (0 bytes)")
    if size > limits.max_bytes:
        raise DocumentError(f"file too large: {_size(size)} (limit {_size(limits.max_bytes)})")


def _read_bounded(absolute: Path, limits: LoadLimits) -> bytes:
    """The file's bytes, never reading more than ``max_bytes + 1``.

    The caller has checked the size from ``stat``; it is checked again from what was read,
    since the file may change in between. The file is opened once, without following a
    final link, and what was opened is checked to lie inside the data roots
    (:func:`open_readable`): a link swapped in after the checks reads nothing outside.
    ``O_NONBLOCK`` plus an ``fstat`` of the opened file make sure a path swapped for a pipe
    after the checks cannot hang the worker.
    """
    flags = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = open_readable(absolute, flags)
    except PermissionError:
        raise DocumentError("permission denied (cannot read file)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DocumentError("changed into a link while it was being opened") from None
        raise DocumentError(f"unreadable: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise DocumentError("not a regular file (device, socket or pipe)")
        try:
            data = handle.read(limits.max_bytes + 1)
        except OSError as exc:
            raise DocumentError(f"unreadable: {exc.strerror or exc}") from None
    _check_size(len(data), limits)
    return data
