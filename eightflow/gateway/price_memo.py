"""Models found priced, remembered across runs, so a re-run need not import litellm.

A batch with a USD cap checks its model's price before any document starts
(:func:`eightflow.gateway.pricing.require_price`), and that check imports litellm: 1.4 s
of CPU here, the largest part of a cached re-run that then makes no call at all. A model
found priced is written to ``EIGHTFLOW_HOME/priced-models.json``, under what its price
came from: the installed litellm's version (its bundled price map) and the state (size and
modification time) of the home's ``prices.json``. The next run reads the verdict from
there while both are unchanged; any change, or an unreadable memo, means asking litellm
again. Only "priced" is remembered, never "unpriced": a price may be added at any time.
"""

from __future__ import annotations

import json
import os
import threading
from functools import cache
from pathlib import Path

from eightflow.gateway.model_names import FREE_PROVIDERS, provider_of
from eightflow.settings import get_settings
from eightflow.store.private import private_file

MEMO_FILE = "priced-models.json"
PRICE_FILE = "prices.json"
_lock = threading.Lock()


@cache
def litellm_version() -> str:
    """The installed litellm's version, read from its metadata (litellm is not imported)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("litellm")
    except PackageNotFoundError:
        return ""


def price_sources(home: Path | None = None) -> str:
    """Where prices come from, as one string: litellm's version and the price file's state."""
    path = (home or get_settings().home) / PRICE_FILE
    try:
        stat = path.stat()
        file_state = f"{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        file_state = "none"
    return f"litellm {litellm_version()}; {PRICE_FILE} {file_state}"


def _memo_path(home: Path | None = None) -> Path:
    return (home or get_settings().home) / MEMO_FILE


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def known_priced(model: str, home: Path | None = None) -> bool:
    """True when ``model`` is free, or was found priced under the current price sources."""
    if provider_of(model) in FREE_PROVIDERS:
        return True
    memo = _read(_memo_path(home))
    models = memo.get("models")
    return (
        memo.get("sources") == price_sources(home) and isinstance(models, list) and model in models
    )


def remember_priced(model: str, home: Path | None = None) -> None:
    """Add ``model`` to the memo (a memo that cannot be written is only a slower re-run)."""
    if provider_of(model) in FREE_PROVIDERS:
        return
    path, sources = _memo_path(home), price_sources(home)
    with _lock:
        memo = _read(path)
        models = memo.get("models") if memo.get("sources") == sources else None
        known = [m for m in models if isinstance(m, str)] if isinstance(models, list) else []
        if model in known:
            return
        try:
            scratch = private_file(path.with_name(f".{MEMO_FILE}.{os.getpid()}"))
            scratch.write_text(
                json.dumps({"sources": sources, "models": sorted({*known, model})}),
                encoding="utf-8",
            )
            os.replace(scratch, path)
        except OSError:
            return
