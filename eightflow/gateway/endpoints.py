"""Where a model call may go, and which calls may carry a stored key.

The operator decides, never a Run form:

- ``EIGHTFLOW_API_BASE`` (settings) and ``EIGHTFLOW_ALLOWED_API_BASES`` (comma-separated)
  list the OpenAI-compatible base URLs calls may be sent to with a stored key;
  ``<PROVIDER>_API_BASE`` (e.g. ``OPENAI_API_BASE``) is the base configured for one provider.
- The models a Run form may pick are in :mod:`eightflow.safety.form_types`.

A key read from the environment or `keys.env` is attached only to a request that goes
to the provider's default URL or to a base configured for that provider. A request to any
other base goes out without the key.
"""

from __future__ import annotations

import os

from eightflow.errors import ModelPermanentError
from eightflow.settings import get_settings


def normalize_base(url: str) -> str:
    """``HTTP://Host:1/v1/`` and ``http://host:1/v1`` are the same base."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.rstrip("/")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def _split(raw: str | None) -> list[str]:
    return [item.strip() for item in (raw or "").split(",") if item.strip()]


def configured_bases(provider: str) -> set[str]:
    """The base URLs the operator configured for ``provider`` (normalized)."""
    settings = get_settings()
    bases = _split(os.environ.get("EIGHTFLOW_ALLOWED_API_BASES"))
    if settings.api_base:
        bases.append(settings.api_base)
    own = os.environ.get(f"{provider.upper()}_API_BASE")
    if own:
        bases.append(own)
    return {normalize_base(b) for b in bases}


def key_allowed_for(provider: str, api_base: str | None) -> bool:
    """Whether a stored key for ``provider`` may travel with a request to ``api_base``."""
    return api_base is None or normalize_base(api_base) in configured_bases(provider)


def check_allowed_base(api_base: str | None, provider: str) -> None:
    """Refuse a base URL the operator did not configure (deployment runs use this)."""
    if api_base is not None and not key_allowed_for(provider, api_base):
        raise ModelPermanentError(
            f"api_base {api_base} is not configured by the operator "
            "(EIGHTFLOW_API_BASE / EIGHTFLOW_ALLOWED_API_BASES)",
            model=None,
            provider=provider,
            kind="ForbiddenEndpoint",
        )
