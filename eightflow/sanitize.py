"""The one sanitizer: every writer of traces, artifacts, the ledger and logs calls it.

It redacts API keys and bearer tokens (provider key patterns, the current values of
environment variables whose names say they hold secrets, Authorization headers), optionally
emails and phone numbers, and truncates long text. Values of secret environment variables
are re-read on each call so a key set after import is still caught.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from eightflow.settings import get_settings

REDACTED = "[REDACTED]"

# Each provider pattern with the literals any match must contain: the regex runs only when
# one of them is in the text (a substring test is ~100x cheaper than a leading-``\b`` regex
# scan, and this is the hot path: every trace row and output cell). ``None``: always run.
_KEY_RULES: list[tuple[re.Pattern[str], tuple[str, ...] | None]] = [
    # PEM private keys, whole block; an unterminated block is redacted to the end.
    (
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
            re.DOTALL,
        ),
        ("PRIVATE KEY",),
    ),
    # OpenAI, Anthropic, OpenRouter
    (re.compile(r"sk-(?:proj-|ant-|or-v1-)?[A-Za-z0-9_\-]{16,}"), ("sk-",)),
    (
        re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b"),
        ("_live_", "_test_"),
    ),  # Stripe
    (re.compile(r"\bwhsec_[A-Za-z0-9]{20,}\b"), ("whsec_",)),  # Stripe webhook secret
    (
        re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"),  # AWS key ids
        ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"),
    ),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"), ("AIza",)),  # Google API key
    (re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"), ("ya29.",)),  # Google OAuth access token
    (
        re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}\b"), ("github_pat_",)),  # GitHub fine-grained
    (re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}\b"), ("glpat-",)),  # GitLab
    (re.compile(r"\bxox[abprse]-[A-Za-z0-9\-]{10,}\b"), ("xox",)),  # Slack tokens
    (
        re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+"),  # Slack webhooks
        ("https://hooks.slack.com/services/",),
    ),
    (re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), ("hf_",)),  # Hugging Face
    (re.compile(r"\bgsk_[A-Za-z0-9]{30,}\b"), ("gsk_",)),  # Groq
    (re.compile(r"\bpnu_[A-Za-z0-9]{30,}\b"), ("pnu_",)),  # Prefect Cloud
    (re.compile(r"\bxai-[A-Za-z0-9]{30,}\b"), ("xai-",)),  # xAI
    (re.compile(r"\bpplx-[A-Za-z0-9]{30,}\b"), ("pplx-",)),  # Perplexity
    (re.compile(r"\br8_[A-Za-z0-9]{30,}\b"), ("r8_",)),  # Replicate
    (re.compile(r"\bnpm_[A-Za-z0-9]{30,}\b"), ("npm_",)),  # npm
    (re.compile(r"\bpypi-[A-Za-z0-9_\-]{50,}"), ("pypi-",)),  # PyPI upload token
    (re.compile(r"\bdop_v1_[a-f0-9]{64}\b"), ("dop_v1_",)),  # DigitalOcean
    (
        re.compile(r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b"),  # Shopify
        ("shpat_", "shpss_", "shpca_", "shppa_"),
    ),
    (re.compile(r"\bdapi[a-f0-9]{32}\b"), ("dapi",)),  # Databricks
    (re.compile(r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"), ("SG.",)),  # SendGrid
    (re.compile(r"\bkey-[a-f0-9]{32}\b"), ("key-",)),  # Mailgun
    (re.compile(r"\b\d{8,10}:AA[A-Za-z0-9_\-]{33}\b"), (":AA",)),  # Telegram bot token
    (
        re.compile(r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\b"),  # JWT
        ("eyJ",),
    ),
    # A bare 32-hex string is how Azure (and Twilio, Databricks...) keys look.
    (re.compile(r"\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{32}\b"), None),
]
_KEY_PATTERNS = [pattern for pattern, _needles in _KEY_RULES]
# Every needle with its rule's index: one pass over them (~1 us) finds the rules to run,
# where a test per rule cost ~5 us a text. Found before any rule runs: a rule replaces
# its matches with ``[REDACTED]``, which holds no needle, so it never adds one for a later
# rule (at most it removes one, and that rule then runs for nothing).
_NEEDLE_RULES = tuple(
    (needle, index)
    for index, (_pattern, needles) in enumerate(_KEY_RULES)
    if needles is not None
    for needle in needles
)
# Digits, spaces and ``: . T + -`` only (timestamps, numbers, dates): every provider and
# header pattern needs a letter other than T, so none can match and they are skipped.
_INERT = re.compile(r"[0-9 :.T+\-]*")
_ALWAYS_RULES = frozenset(i for i, (_pattern, needles) in enumerate(_KEY_RULES) if needles is None)
# Credentials inside a URL: scheme://user:password@host keeps the user, drops the password.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@'\"]*:)([^\s@/'\"]+)(@)")
# Azure connection strings and SAS tokens.
_AZURE = re.compile(r"(?i)\b(AccountKey=|SharedAccessKey=|[?&]sig=)([^;&\s'\"]+)")
_AUTH_HEADER = re.compile(
    r"(?i)\b(authorization|x-api-key|api[-_]?key|proxy-authorization|ocp-apim-subscription-key)"
    r"([\"']?\s*[:=]\s*[\"']?)"
    r"(?:(?:bearer|basic|token)\s+)?[^\s\"',}]+"
)
# ``name = value`` / ``"name": "value"`` / ``'name': 'value'`` where the name says secret.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)([\"']?\b[\w.\-]*(?:secret(?!ary)|passw(?:or)?d|\bpwd|token|api[_\-]?key|access[_\-]?key"
    r"|private[_\-]?key|credential)[\w.\-]*[\"']?\s*[:=]\s*)([\"']?)"
    r"(?!\[REDACTED\])(?=[^\s\"',}]*[A-Za-z])([^\s\"',}]{6,})"
)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9_\-\.=:/+]{12,}")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().\-]{7,}\d(?!\w)")
_SECRET_NAME = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|AUTH|CREDENTIAL)")
_MIN_SECRET_LEN = 8
# What any match of the case-insensitive patterns contains, lower-cased by :func:`_fold`.
_URL_NEEDLES = ("://",)
_AZURE_NEEDLES = ("accountkey=", "sharedaccesskey=", "sig=")
_AUTH_NEEDLES = ("authorization", "api", "ocp-apim")
_ASSIGNMENT_NEEDLES = (
    "secret",
    "passw",
    "pwd",
    "token",
    "api",
    "access",
    "private",
    "credential",
)
_BEARER_NEEDLES = ("bearer",)


# The only non-ASCII characters ``re.IGNORECASE`` matches to an ASCII letter (checked over
# all of Unicode in tests/test_sanitize.py): folded first, so a needle test never misses
# what the pattern would match.
_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _fold(text: str) -> str:
    return text.translate(_TO_ASCII).lower()


def _has(text: str, needles: tuple[str, ...]) -> bool:
    return any(map(text.__contains__, needles))


_REGISTERED: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact ``value`` wherever it appears from now on (keys read from Secret blocks)."""
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
    has just read them (:class:`eightflow.sanitize_memo.SanitizeMemo`).
    """
    if not text:
        return text
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


def _redact_patterns(text: str) -> str:
    """Provider key shapes, then credentials in URLs, headers and assignments."""
    present = {index for needle, index in _NEEDLE_RULES if needle in text}
    for index in sorted(present | _ALWAYS_RULES):
        text = _KEY_PATTERNS[index].sub(REDACTED, text)
    folded = _fold(text)
    if _has(folded, _URL_NEEDLES):
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
    if _has(folded, _AZURE_NEEDLES):
        text = _AZURE.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    if _has(folded, _AUTH_NEEDLES):
        text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    if _has(folded, _ASSIGNMENT_NEEDLES) and (":" in text or "=" in text):
        text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    if _has(folded, _BEARER_NEEDLES):
        text = _BEARER.sub(f"Bearer {REDACTED}", text)
    return text


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


_MARGIN = 512  # longer than any secret a pattern matches in one piece (PEM: see above)


def excerpt(value: Any, limit: int = 300) -> str:
    """A short, sanitized, single-line view of a step's input for trace rows.

    Redacts before it truncates: the text is cut only well past ``limit`` (after collapsing
    whitespace), so no secret is cut into a fragment that its pattern no longer matches
    and that then survives into the excerpt.
    """
    if isinstance(value, str):
        text = _collapsed_prefix(value, limit + _MARGIN)
    elif isinstance(value, Mapping):
        # Cut each value before joining: contexts hold whole documents.
        text = ", ".join(f"{k}={_short_repr(v, limit + _MARGIN)}" for k, v in value.items())
        text = _collapsed_prefix(text, limit + _MARGIN)
    else:
        text = _collapsed_prefix(_short_repr(value, limit + _MARGIN), limit + _MARGIN)
    return sanitize_text(text, limit=limit)


def _collapsed_prefix(text: str, size: int) -> str:
    """The first ``size`` characters of ``text`` with whitespace runs collapsed."""
    chunk = size * 2
    while True:
        collapsed = " ".join(text[:chunk].split())
        if len(collapsed) >= size or chunk >= len(text):
            return collapsed[:size]
        chunk *= 4


def _short_repr(value: Any, limit: int) -> str:
    if isinstance(value, str):
        return repr(_collapsed_prefix(value, limit))
    if isinstance(value, Mapping | list | tuple):
        return "<" + type(value).__name__ + f" of {len(value)}>"
    fields = getattr(type(value), "model_fields", None)
    if isinstance(fields, dict):
        # Field by field, each cut to the limit: dumping a whole document (megabytes of
        # text) as JSON to keep its first few hundred characters was a hot path.
        parts = []
        for name in fields:
            parts.append(f"{name}={_short_repr(getattr(value, name, None), limit)}")
            if sum(map(len, parts)) >= limit:
                break
        return f"{type(value).__name__}({', '.join(parts)})"[:limit]
    return repr(value)[:limit]
