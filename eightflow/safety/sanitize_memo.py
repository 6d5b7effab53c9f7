"""``sanitize`` for a writer of many similar rows: each short string is sanitized once.

A batch's results and trace rows repeat the same step names, statuses, models, prompt
references and hashes thousands of times, and each document's id appears in every one of
its rows; running the sanitizer's ~70 shape checks on each copy was most of the work of
a re-run served from cache (1,000 documents: ~43,000 calls). :class:`SanitizeMemo` gives
exactly what :func:`eightflow.safety.sanitize.sanitize` gives, remembering what each short string
became. What a string becomes depends only on the string, the limit, the secret values the
sanitizer knows (secret-looking environment variables and registered secrets) and whether
PII is redacted: the memo is emptied whenever any of these changes, so a key set or
rotated mid-batch is caught exactly as the sanitizer catches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eightflow.safety import sanitize as sanitizer
from eightflow.settings import get_settings

MAX_MEMO_LEN = 256  # longer strings (summaries, answers) rarely repeat: sanitized directly
MAX_ENTRIES = 20_000  # a bound on memory: emptied when reached


def _sanitizer_state() -> tuple[Any, ...]:
    """Everything besides the text and limit that ``sanitize_text``'s result depends on:
    the secret values it redacts, and whether it redacts PII."""
    return (tuple(sanitizer.known_secrets()), get_settings().redact_pii)


class SanitizeMemo:
    """``memo(value, limit=...)`` is ``sanitize(value, limit=...)``, faster on repeats.

    A caller that sanitizes several values at once (a document's rows) may call
    :meth:`refresh` once and then :meth:`walk` and :meth:`text`, which skip the check of
    the sanitizer's inputs. Not for concurrent use: each writer holds its own.
    """

    def __init__(self, max_len: int = MAX_MEMO_LEN, max_entries: int = MAX_ENTRIES) -> None:
        self.max_len = max_len
        self.max_entries = max_entries
        self._texts: dict[tuple[str, int | None], str] = {}
        self._secret_keys: dict[str, bool] = {}
        self._state: tuple[Any, ...] | None = None
        self._redact_pii = False
        self._known: list[str] | None = None  # until refresh(): read by each call

    def __call__(self, value: Any, *, limit: int | None = 2000) -> Any:
        self.refresh()
        return self.walk(value, limit)

    def refresh(self) -> None:
        """Forget everything if a secret, a registered value or the PII setting changed."""
        state = _sanitizer_state()
        if state != self._state:
            self._texts.clear()
            self._state = state
            self._known = list(state[0])
            self._redact_pii = bool(state[1])

    def text(self, text: str, limit: int | None) -> str:
        """``sanitize_text(text, limit=limit)`` as of the last :meth:`refresh`."""
        if not text:
            return text
        if len(text) > self.max_len:
            return sanitizer.sanitize_text(
                text, limit=limit, redact_pii=self._redact_pii, known=self._known
            )
        key = (text, limit)
        done = self._texts.get(key)
        if done is None:
            if len(self._texts) >= self.max_entries:
                self._texts.clear()
            done = sanitizer.sanitize_text(
                text, limit=limit, redact_pii=self._redact_pii, known=self._known
            )
            self._texts[key] = done
        return done

    def _secret_key(self, key: str) -> bool:
        found = self._secret_keys.get(key)
        if found is None:
            if len(self._secret_keys) >= self.max_entries:
                self._secret_keys.clear()
            found = self._secret_keys[key] = bool(sanitizer._SECRET_NAME.search(key))
        return found

    def walk(self, value: Any, limit: int | None, depth: int = 0) -> Any:
        """``sanitize(value, limit=limit)`` as of the last :meth:`refresh`."""
        # The same walk as eightflow.safety.sanitize.sanitize (tests compare the two).
        if depth > 6:
            return "…"
        # Exact built-in types first: a row is mostly numbers, short strings and dicts, and
        # an ABC isinstance check (Mapping) per leaf was most of this walk's cost.
        kind = type(value)
        if kind is str:
            return self.text(value, limit)
        if value is None or kind is int or kind is float or kind is bool:
            return value
        if kind is dict or isinstance(value, Mapping):
            return self._walk_mapping(value, limit, depth)
        if isinstance(value, str):
            return self.text(value, limit)
        if isinstance(value, list | tuple | set):
            return [self.walk(v, limit, depth + 1) for v in list(value)[:100]]
        if value is None or isinstance(value, bool | int | float):
            return value
        dump = getattr(value, "model_dump", None)
        if callable(dump):
            return self.walk(dump(mode="json"), limit, depth + 1)
        return self.text(repr(value), limit)

    def _walk_mapping(self, value: Mapping[Any, Any], limit: int | None, depth: int) -> Any:
        # The hot loop of a row: strings and numbers are handled here, without a call each.
        out = {}
        texts = self._texts
        for key, item in value.items():
            name = key if type(key) is str else str(key)
            kind = type(item)
            if kind is str:
                if self._secret_key(name):
                    out[name] = sanitizer.REDACTED
                else:
                    done = texts.get((item, limit))
                    out[name] = done if done is not None else self.text(item, limit)
            elif item is None or kind is int or kind is float or kind is bool:
                out[name] = item
            elif isinstance(item, str) and self._secret_key(name):
                out[name] = sanitizer.REDACTED
            else:
                out[name] = self.walk(item, limit, depth + 1)
        return out
