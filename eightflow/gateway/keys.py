"""Provider API keys: looked up explicitly, at call time, and never logged."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from eightflow.gateway.errors import provider_of
from eightflow.sanitize import register_secret

# A key found in a Secret block is kept for the process: workers make thousands of calls.
# A lookup that found nothing, or failed (API down, block not created yet), is kept only
# this long, so a block created later or an API that comes back is picked up.
MISS_TTL_S = 30.0

_PLUGGED: set[str] = set()  # providers registered in-process: they take no key
_SECRET_KEYS: dict[str, str] = {}
_SECRET_MISSES: dict[str, float] = {}  # provider -> monotonic time the miss expires
_SECRET_LOCKS: dict[int, asyncio.Lock] = {}


def _secret_lock() -> asyncio.Lock:
    """One look-up per provider even when a batch starts hundreds of calls at once."""
    loop = id(asyncio.get_running_loop())
    return _SECRET_LOCKS.setdefault(loop, asyncio.Lock())


def _known(provider: str) -> tuple[bool, str | None]:
    """(answered, key) from what earlier look-ups found; a miss counts until it expires."""
    if provider in _SECRET_KEYS:
        return True, _SECRET_KEYS[provider]
    expires = _SECRET_MISSES.get(provider)
    if expires is not None and time.monotonic() < expires:
        return True, None
    return False, None


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
    answered, key = _known(provider)
    if answered:
        return key
    async with _secret_lock():
        answered, key = _known(provider)
        if answered:
            return key
        try:
            from prefect.blocks.system import Secret

            block: Any = await Secret.aload(f"{provider}-api-key")
            value = block.get()
        except Exception:  # no such block (the provider may need no key), or no API
            value = None
        if value:
            _SECRET_KEYS[provider] = str(value)
            _SECRET_MISSES.pop(provider, None)
            register_secret(str(value))  # redacted wherever it shows up
            return str(value)
        _SECRET_MISSES[provider] = time.monotonic() + MISS_TTL_S
        return None
