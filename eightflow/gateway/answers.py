"""Secrets out of a model's answer, before anything downstream sees it.

A model quotes its input: the embedded model's entities listed ``Sup3rS3cretPass@db.internal``
as an email, cut out of ``postgresql://admin:Sup3rS3cretPass@db.internal:5432/ledger``, where
the sanitizer sees a URL password only with the URL around it. So every answer the gateway
returns (fresh, cached, replayed, from a batch) has each of its string fields sanitized, and
also stripped of the secrets the sanitizer finds in the request that produced it. In a list,
an item that is left holding nothing but redaction markers (an entity whose text was a key)
is dropped.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from eightflow.safety.sanitize import REDACTED, known_secrets, sanitize_text, secrets_in

# A secret quoted out of context shorter than this is not looked for elsewhere: a password
# "abc" would redact every "abc" in the answer.
MIN_QUOTED_SECRET = 6
_ONLY_MARKERS = re.compile(r"[\s\W_]*(?:\[REDACTED\][\s\W_]*)+")
# Secrets found per paragraph of a request: a document's steps send the same paragraphs in
# different prompts, so each is scanned once (the scan costs ~0.2 us a character; an
# embedded model's answer ~5 ms). Bounded by the characters it holds.
_MEMO_CHARS = 8_000_000
_PARAGRAPH_SECRETS: dict[str, frozenset[str]] = {}
_memo_chars = 0


def _secrets_of_request(messages: list[dict[str, Any]]) -> frozenset[str]:
    """The secrets in a request's messages, paragraph by paragraph.

    A secret's context (a URL, a header, ``name = value``, a PEM block) never spans a
    blank line, so scanning paragraphs finds what scanning the whole text finds.
    """
    global _memo_chars
    found: set[str] = set()
    for message in messages:
        content = message.get("content")
        if not isinstance(content, str) or len(content) < MIN_QUOTED_SECRET:
            continue
        for part in content.split("\n\n"):
            if len(part) < MIN_QUOTED_SECRET:
                continue
            done = _PARAGRAPH_SECRETS.get(part)
            if done is None:
                done = frozenset(s for s in secrets_in(part) if len(s) >= MIN_QUOTED_SECRET)
                if _memo_chars + len(part) > _MEMO_CHARS:
                    _PARAGRAPH_SECRETS.clear()
                    _memo_chars = 0
                _PARAGRAPH_SECRETS[part] = done
                _memo_chars += len(part)
            found |= done
    return frozenset(found)


def clean_answer(output: Any, messages: list[dict[str, Any]]) -> Any:
    """``output`` with secrets redacted from every string in it (see the module doc)."""
    quoted = _secrets_of_request(messages)
    known = sorted({*known_secrets(), *quoted}, key=len, reverse=True)
    return _walk(output, known)


def only_markers(text: str) -> bool:
    """Nothing but ``[REDACTED]`` markers, spaces and punctuation."""
    return REDACTED in text and _ONLY_MARKERS.fullmatch(text) is not None


def _walk(value: Any, known: list[str]) -> Any:
    if isinstance(value, str):
        return sanitize_text(value, limit=None, redact_pii=False, known=known)
    if isinstance(value, BaseModel):
        changes = {}
        for name in type(value).model_fields:
            item = getattr(value, name, None)
            cleaned = _walk(item, known)
            if cleaned is not item and cleaned != item:
                changes[name] = cleaned
        return value.model_copy(update=changes) if changes else value
    if isinstance(value, dict):
        return {key: _walk(item, known) for key, item in value.items()}
    if isinstance(value, list | tuple):
        kept = [_walk(item, known) for item in value if not _emptied(item, known)]
        return type(value)(kept) if isinstance(value, tuple) else kept
    return value


def _emptied(item: Any, known: list[str]) -> bool:
    """An item whose text was wholly a secret: a string, or a model/dict with such a field."""
    if isinstance(item, str):
        return only_markers(_walk(item, known)) and not only_markers(item)
    fields: dict[str, Any] = {}
    if isinstance(item, BaseModel):
        fields = {name: getattr(item, name, None) for name in type(item).model_fields}
    elif isinstance(item, dict):
        fields = item
    return any(
        isinstance(v, str) and not only_markers(v) and only_markers(_walk(v, known))
        for v in fields.values()
    )
