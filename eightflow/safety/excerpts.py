"""Excerpts: a short, sanitized, single-line view of a value, for trace rows and reports.

Step inputs (whole documents among them), recorded inputs and error texts are shown cut to
a few hundred characters. An excerpt is redacted before it is cut, so no secret is cut into
a fragment its pattern no longer matches, and it is remembered (:class:`SanitizeMemo`): a
document's steps start their input excerpts with the same document prefix.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from eightflow.safety.sanitize_memo import SanitizeMemo

_MARGIN = 512  # longer than any secret a pattern matches in one piece (a PEM block: see sanitize)


def excerpt(value: Any, limit: int = 300) -> str:
    """A short, sanitized, single-line view of a step's input for trace rows.

    Redacts before it truncates: the text is cut only well past ``limit`` (after collapsing
    whitespace), so no secret is cut into a fragment that its pattern no longer matches
    and that then survives into the excerpt.
    """
    size = limit + _MARGIN
    if isinstance(value, str):
        text = _collapsed_prefix(value, size)
    elif isinstance(value, Mapping):
        # Cut each value before joining (contexts hold whole documents), and stop once
        # the text is long enough: what follows would be cut off anyway.
        parts: list[str] = []
        length = 0
        for k, v in value.items():
            parts.append(f"{k}={_short_repr(v, size)}")
            length += len(parts[-1]) + 2
            if length >= size and len(_collapsed_prefix(", ".join(parts), size)) >= size:
                break  # (collapsing whitespace may have made it shorter: checked)
        text = _collapsed_prefix(", ".join(parts), size)
    else:
        text = _collapsed_prefix(_short_repr(value, size), size)
    return _sanitized_excerpt(text, limit)


_EXCERPTS = SanitizeMemo(max_len=8 * _MARGIN, max_entries=512)
_EXCERPTS_LOCK = threading.Lock()


def _sanitized_excerpt(text: str, limit: int) -> str:
    """``sanitize_text(text, limit=limit)``, remembered: a document's steps start their
    input excerpts with the same document prefix, so most excerpts repeat. The memo
    forgets everything when a secret, a registered value or the PII setting changes, so a
    key set or rotated mid-run is redacted at once."""
    with _EXCERPTS_LOCK:  # steps run in threads too: one refresh-and-read at a time
        _EXCERPTS.refresh()
        return str(_EXCERPTS.text(text, limit))


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
