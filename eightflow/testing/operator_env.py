"""Tests as the operator: the base URL and model a deployment's form may not choose.

A Run form offers no base URL and only the operator's models, so a test that runs the
batch flow against a stub sets them the way an operator would: ``EIGHTFLOW_API_BASE`` and
``EIGHTFLOW_ALLOWED_MODELS``, for the block only. Only these variables are restored
afterwards; a blanket restore of ``os.environ`` would also drop what imports set meanwhile
(litellm sets ``TIKTOKEN_CACHE_DIR`` when first imported).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

_HOLDERS: dict[str, int] = {}
_ORIGINAL: dict[str, str | None] = {}


@contextmanager
def operator_env(api_base: str | None = None, model: str | None = None) -> Iterator[None]:
    """Overlapping blocks (batches gathered at once) share the settings: the original
    values come back when the last block ends."""
    values = {}
    if api_base:
        values["EIGHTFLOW_API_BASE"] = api_base
    if model:
        values["EIGHTFLOW_ALLOWED_MODELS"] = model
    for name, value in values.items():
        if _HOLDERS.get(name, 0) == 0:
            _ORIGINAL[name] = os.environ.get(name)
        _HOLDERS[name] = _HOLDERS.get(name, 0) + 1
        os.environ[name] = value
    try:
        yield
    finally:
        for name in values:
            _HOLDERS[name] -= 1
            if _HOLDERS[name] == 0:
                original = _ORIGINAL.pop(name)
                if original is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = original
