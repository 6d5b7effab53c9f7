"""The one sanitizer: every writer of traces, artifacts, the ledger and logs calls it.

It redacts API keys and bearer tokens (the shapes of eightflow/safety/secret_shapes.py, the current
values of environment variables whose names say they hold secrets, registered secrets),
optionally emails and phone numbers, and truncates long text. Zero-width characters and
soft hyphens are removed first, so a key split by one is still seen whole. Values of secret
environment variables are re-read on each call so a key set after import is still caught.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from eightflow.safety.secret_shapes import SHAPES, Shape
from eightflow.settings import get_settings

REDACTED = "[REDACTED]"
_GATES = ("_", "-", ".")  # see _GATED_RULES


def _gate_of(needle: str) -> str:
    return next((gate for gate in _GATES if gate in needle), "")


# The shapes, in order (eightflow/safety/secret_shapes.py). Every needle with its shape's index:
# one pass over them (~1 us) finds the shapes to run, where a test per shape cost ~5 us a
# text. Found before any shape runs: a shape replaces its secret with ``[REDACTED]``, which
# holds no needle, so it never adds one for a later shape (at most it removes one, and that
# shape then runs for nothing). Case-insensitive shapes test a folded copy of the text.
_NEEDLE_RULES = tuple(
    (needle, index)
    for index, shape in enumerate(SHAPES)
    if shape.needles is not None and not shape.folded
    for needle in shape.needles
)
# The needles grouped by a character each contains that prose rarely holds: when the text
# lacks it (most trace rows have no "_"), the whole group is skipped with one test.
_GATED_RULES: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = tuple(
    (gate, tuple(rule for rule in _NEEDLE_RULES if _gate_of(rule[0]) == gate))
    for gate in (*_GATES, "")
)
_FOLDED_RULES = tuple(
    (needle, index)
    for index, shape in enumerate(SHAPES)
    if shape.needles is not None and shape.folded
    for needle in shape.needles
)
_ALWAYS_RULES = frozenset(i for i, shape in enumerate(SHAPES) if shape.needles is None)
# Digits, spaces and ``: . T + -`` only (timestamps, numbers, dates): every shape needs a
# letter other than T (or 48 hex digits after a colon, which need a-f), so none can match.
_INERT = re.compile(r"[0-9 :.T+\-]*")
# Zero-width characters and the soft hyphen: invisible, so a key split by one reads whole
# to a person. Removed before any matching.
_ZERO_WIDTH = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().\-]{7,}\d(?!\w)")
_SECRET_NAME = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|AUTH|CREDENTIAL)")
_MIN_SECRET_LEN = 8
# The only non-ASCII characters ``re.IGNORECASE`` matches to an ASCII letter (checked over
# all of Unicode in tests/safety/test_sanitize.py): folded first, so a needle test never misses
# what the pattern would match.
_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _fold(text: str) -> str:
    return text.translate(_TO_ASCII).lower()


_REGISTERED: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact ``value`` wherever it appears from now on (keys read from `keys.env`)."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _REGISTERED.add(value)


_ENV_KEYS: tuple[int, tuple[str, ...]] = (-1, ())
_ENV_CACHE: tuple[tuple[str | None, ...] | None, list[str]] = (None, [])


def _secret_env_values() -> list[str]:
    """Values of secret-looking env vars, recomputed only when one of them changes.

    This is the hot path (every trace row and output cell). The names of secret-looking
    variables are re-scanned only when the environment grows or shrinks; their values are
    compared on every call, so a rotated key is caught at once.
    """
    global _ENV_KEYS, _ENV_CACHE
    # CPython keeps the raw environment in os.environ._data: hashing its key set is much
    # cheaper than decoding every name, and catches a variable swapped for another.
    signature = hash(frozenset(getattr(os.environ, "_data", os.environ)))
    if _ENV_KEYS[0] != signature:
        names = tuple(sorted(k for k in os.environ if _SECRET_NAME.search(k)))
        _ENV_KEYS = (signature, names)
    current = tuple(os.environ.get(k) for k in _ENV_KEYS[1])
    if current != _ENV_CACHE[0]:
        _ENV_CACHE = (current, _read_secret_env_values())
    return _ENV_CACHE[1]


def _read_secret_env_values() -> list[str]:
    values = []
    for name, value in os.environ.items():
        if value and len(value) >= _MIN_SECRET_LEN and _SECRET_NAME.search(name):
            if name.upper().endswith("_COST_MAP") or value.lower() in {"true", "false"}:
                continue
            values.append(value)
    return sorted(set(values), key=len, reverse=True)


def known_secrets() -> list[str]:
    """The secret values redacted wherever they appear, longest first."""
    return sorted({*_secret_env_values(), *_REGISTERED}, key=len, reverse=True)


def sanitize_text(
    text: str,
    *,
    limit: int | None = 2000,
    redact_pii: bool | None = None,
    known: list[str] | None = None,
) -> str:
    """Secrets out, then truncated to ``limit`` characters (None: no limit).

    ``known``: :func:`known_secrets`, for a caller that sanitizes many texts at once and
    has just read them (:class:`eightflow.safety.sanitize_memo.SanitizeMemo`).
    """
    if not text:
        return text
    if not text.isascii():
        text = _ZERO_WIDTH.sub("", text)
    if known is None:
        known = known_secrets()
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    if not _INERT.fullmatch(text):
        text = _redact_patterns(text)
    if redact_pii is None:
        redact_pii = get_settings().redact_pii
    if redact_pii:
        text = _EMAIL.sub("[EMAIL]", text)
        text = _PHONE.sub("[PHONE]", text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"… [{len(text) - limit} more chars]"
    return text


def _redact_patterns(text: str, found: set[str] | None = None) -> str:
    """Every shape whose needles are in ``text``, in order; ``found`` collects the secrets."""
    present: set[int] = set()
    for gate, rules in _GATED_RULES:
        if gate in text:  # "" (needles without a gate) is in every text
            present.update(index for needle, index in rules if needle in text)
    folded = _fold(text)
    present.update(index for needle, index in _FOLDED_RULES if needle in folded)
    for index in sorted(present | _ALWAYS_RULES):
        shape = SHAPES[index]
        if shape.also and not any(map(text.__contains__, shape.also)):
            continue
        text = _apply(shape, text, found)
    return text


def _apply(shape: Shape, text: str, found: set[str] | None) -> str:
    if found is None and not shape.group and shape.check is None:
        return shape.pattern.sub(REDACTED, text)

    def redact(match: re.Match[str]) -> str:
        secret = match.group(shape.group)
        if shape.check is not None and not shape.check(secret):
            return match.group(0)
        if found is not None:
            found.add(secret)
        start, end = match.span(shape.group)
        whole = match.string
        return whole[match.start() : start] + REDACTED + whole[end : match.end()]

    return shape.pattern.sub(redact, text)


def secrets_in(text: str) -> set[str]:
    """The secrets the sanitizer would redact from ``text``: the parts it replaces.

    For a caller that must also redact them where they appear out of context: a model's
    answer quoting a password from a URL in its document, without the URL around it.
    """
    if not text:
        return set()
    if not text.isascii():
        text = _ZERO_WIDTH.sub("", text)
    found: set[str] = set()
    if not _INERT.fullmatch(text):
        _redact_patterns(text, found)
    return found


def sanitize(value: Any, *, limit: int | None = 2000, depth: int = 0) -> Any:
    """Sanitize strings inside any JSON-like value; other leaves become short reprs."""
    if depth > 6:
        return "…"
    if isinstance(value, str):
        return sanitize_text(value, limit=limit)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if _SECRET_NAME.search(str(key)) and isinstance(item, str):
                out[str(key)] = REDACTED
            else:
                out[str(key)] = sanitize(item, limit=limit, depth=depth + 1)
        return out
    if isinstance(value, list | tuple | set):
        return [sanitize(v, limit=limit, depth=depth + 1) for v in list(value)[:100]]
    if value is None or isinstance(value, bool | int | float):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return sanitize(dump(mode="json"), limit=limit, depth=depth + 1)
    return sanitize_text(repr(value), limit=limit)
