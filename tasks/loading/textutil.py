"""Text helpers shared by every loader: decoding, binary sniffing and normalization.

Normalizing in one place matters because the text is what models see and what results
quote: two files with the same words must give the same text whatever their line endings,
Unicode composition or trailing whitespace, or prompts and cache keys drift for no reason.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from eightflow.errors import DocumentError

SNIFF_BYTES = 8192
"""How much of a file's head is inspected to tell text from binary."""

MAX_CONTROL_RATIO = 0.10
"""Above this share of control characters in the head, a "text" file is treated as binary."""

TITLE_MAX_CHARS = 120
"""A first line at least this long is a paragraph, not a title."""

# Longest first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)

_PREFERRED_LEGACY = ("cp1252", "latin_1", "iso8859_15")
"""Tie-breakers for encoding guesses, most common in real-world legacy files first."""

_TIE_MARGIN = 0.05
"""How much worse (charset-normalizer "chaos") a preferred codec may score and still win."""

# Tab, LF, FF and CR are ordinary in text files; every other C0 control (and DEL) is not.
_ALLOWED_CONTROLS = frozenset(b"\t\n\x0c\r")
_CONTROL_BYTES = (frozenset(range(32)) - _ALLOWED_CONTROLS) | {0x7F}
_CONTROL_CHARS = frozenset(chr(b) for b in _CONTROL_BYTES)

# Controls stripped from extracted text; newline-like ones become newlines first.
_NEWLINE_LIKE = str.maketrans(
    {"\r": "\n", "\x0b": "\n", "\x0c": "\n", "\u2028": "\n", "\u2029": "\n"}
)
_STRIP_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufeff\u200b]")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+$", re.MULTILINE)
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Extracted:
    """What a format loader returns: raw text plus the facts only it knows.

    ``load_document`` normalizes ``text`` and checks it is non-empty and not too long, so
    every format gets the same rules; ``empty_reason`` lets a loader explain emptiness
    better (a PDF without a text layer is most likely a scan).
    """

    text: str
    loader: str
    media_type: str
    title: str | None = None
    pages: int | None = None
    encoding: str | None = None
    empty_reason: str = "no extractable text"


def normalize_text(text: str) -> str:
    """Canonical form of extracted text.

    NFC composition (so "é" is one code point whatever the source), ``\\n`` line endings,
    no control characters, no trailing spaces, at most one blank line in a row, and no
    leading or trailing blank lines.
    """
    text = text.replace("\r\n", "\n").translate(_NEWLINE_LIKE)
    text = _STRIP_CONTROLS.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_SPACE.sub("", text)
    text = _MANY_BLANK_LINES.sub("\n\n", text)
    return text.strip("\n").rstrip()


def clean_title(title: str | None) -> str | None:
    """A title on one line with single spaces, or None when nothing is left."""
    if title is None:
        return None
    title = unicodedata.normalize("NFC", _WHITESPACE.sub(" ", title)).strip()
    return title or None


def first_line_title(text: str) -> str | None:
    """The first non-empty line, when it is short enough to be a heading rather than prose."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return clean_title(line) if len(line) < TITLE_MAX_CHARS else None
    return None


def _control_ratio(sample: str | bytes, controls: frozenset[int] | frozenset[str]) -> float:
    if not sample:
        return 0.0
    return sum(1 for c in sample if c in controls) / len(sample)


def _check_not_binary_bytes(data: bytes) -> None:
    head = data[:SNIFF_BYTES]
    if b"\x00" in head:
        raise DocumentError("binary content (NUL bytes) in a text file")
    if _control_ratio(head, _CONTROL_BYTES) > MAX_CONTROL_RATIO:
        raise DocumentError("binary content (too many control characters) in a text file")


def _check_not_binary_text(text: str) -> None:
    head = text[:SNIFF_BYTES]
    if "\x00" in head:
        raise DocumentError("binary content (NUL characters) in a text file")
    if _control_ratio(head, _CONTROL_CHARS) > MAX_CONTROL_RATIO:
        raise DocumentError("binary content (too many control characters) in a text file")


def _known_codec(name: str) -> str | None:
    """The codec a declared charset names, if it is a text encoding Python knows.

    ``rot13``, ``zlib``, ``base64`` and friends are codecs too, but not text encodings:
    ``bytes.decode`` refuses them with a ``LookupError``. A page declaring one is treated
    as declaring nothing.
    """
    try:
        info = codecs.lookup(name)
    except (LookupError, TypeError, ValueError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode a text-ish file, returning ``(text, encoding)``.

    Order of trust: a byte-order mark (unambiguous), strict UTF-8 (almost never decodes
    non-UTF-8 text by accident), an encoding the file itself declares (HTML ``<meta
    charset>``), and only then charset-normalizer's statistical guess. Binary content is
    rejected before any guessing, because a guesser will happily "decode" a PNG.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise DocumentError(f"invalid {label} text after its byte-order mark") from exc
            _check_not_binary_text(text)
            return text, label

    _check_not_binary_bytes(data)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass

    declared_codec = _known_codec(declared) if declared else None
    if declared_codec and declared_codec not in {"utf-8", "utf-16", "utf-32"}:
        try:
            text = data.decode(declared_codec)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            _check_not_binary_text(text)
            return text, declared_codec

    text, encoding = _guess(data)
    _check_not_binary_text(text)
    return text, encoding


def _guess(data: bytes) -> tuple[str, str]:
    """charset-normalizer's guess, with Western European codecs winning near-ties.

    On short single-byte texts its scores are often tied between code pages that differ in
    a few letters (French in cp1257 turns "à" into "ą"). When a common Western codec scores
    about as well as the best guess, its far higher prior probability decides.
    """
    from charset_normalizer import from_bytes

    results = from_bytes(data)
    best = results.best()
    if best is None or best.encoding is None:
        raise DocumentError("unknown text encoding (not UTF-8 and no confident guess)")
    for preferred in _PREFERRED_LEGACY:
        for match in results:
            if match.encoding == preferred and match.chaos <= best.chaos + _TIE_MARGIN:
                return str(match), match.encoding
    return str(best), best.encoding
