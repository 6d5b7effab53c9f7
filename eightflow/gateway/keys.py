"""Provider API keys: looked up explicitly, at call time, and never logged."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from eightflow.gateway.errors import provider_of
from eightflow.observe.sanitize import register_secret

_PLUGGED: set[str] = set()  # providers registered in-process: they take no key
_SECRET_KEYS: dict[str, str | None] = {}
_SECRET_LOCKS: dict[int, asyncio.Lock] = {}


def _secret_lock() -> asyncio.Lock:
    """One look-up per provider even when a batch starts hundreds of calls at once."""
    loop = id(asyncio.get_running_loop())
    return _SECRET_LOCKS.setdefault(loop, asyncio.Lock())


async def provider_key(model: str) -> str | None:
    """The API key for a model's provider, looked up explicitly and never logged.

    The environment (``OPENAI_API_KEY``...) first; on a Prefect worker without it, the
    Secret block ``<provider>-api-key`` (what ``eightflow stack up`` creates), read at run
    time so no key is ever written into a deployment.
    """
    provider = provider_of(model)
    from_env = os.environ.get(f"{provider.upper()}_API_KEY")
    if from_env or provider in _PLUGGED or not os.environ.get("PREFECT_API_URL"):
        return from_env or None
    if provider in _SECRET_KEYS:
        return _SECRET_KEYS[provider]
    async with _secret_lock():
        if provider in _SECRET_KEYS:
            return _SECRET_KEYS[provider]
        try:
            from prefect.blocks.system import Secret

            block: Any = await Secret.aload(f"{provider}-api-key")
            value = block.get()
            _SECRET_KEYS[provider] = str(value) if value else None
            register_secret(_SECRET_KEYS[provider])  # redacted wherever it shows up
        except Exception:  # no such block: the provider may need no key
            _SECRET_KEYS[provider] = None
    return _SECRET_KEYS[provider]
