"""Provider failures as eightflow's own errors: temporary (retried) or permanent (not).

litellm's exception classes do not pickle reliably, and Prefect serializes task
failures, so every provider exception is mapped here before it leaves the gateway.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import litellm

from eightflow.errors import ModelError, ModelPermanentError, ModelTemporaryError

_TEMPORARY = (
    litellm.RateLimitError,
    litellm.Timeout,
    litellm.APIConnectionError,
    litellm.ServiceUnavailableError,
    litellm.InternalServerError,
)
_PERMANENT = (
    litellm.AuthenticationError,
    litellm.ContextWindowExceededError,
    litellm.BadRequestError,
    litellm.NotFoundError,
    litellm.PermissionDeniedError,
    litellm.UnprocessableEntityError,
)


_MISSING_KEY = "Missing credentials"


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"


def map_error(exc: BaseException, model: str) -> ModelError:
    """A litellm/provider exception as one of ours (picklable, safe for Prefect)."""
    if isinstance(exc, ModelError):
        return exc
    kind = type(exc).__name__
    status = getattr(exc, "status_code", None)
    message = _clean_message(str(exc))
    fields: dict[str, Any] = {
        "model": model,
        "provider": provider_of(model),
        "status_code": status if isinstance(status, int) else None,
        "kind": kind,
    }
    if isinstance(exc, _PERMANENT) or _MISSING_KEY in message:
        # litellm reports a missing key as an InternalServerError: retrying cannot help.
        return ModelPermanentError(message, **fields)
    if isinstance(exc, (*_TEMPORARY, asyncio.TimeoutError, json.JSONDecodeError)):
        return ModelTemporaryError(message, **fields)
    if isinstance(status, int) and 400 <= status < 500 and status not in (408, 409, 429):
        return ModelPermanentError(message, **fields)
    # Unknown provider failures (malformed bodies, 5xx without a class) are worth a retry.
    return ModelTemporaryError(message, **fields)


def _clean_message(text: str, limit: int = 500) -> str:
    from eightflow.sanitize import sanitize_text

    return sanitize_text(text.replace("\n", " "), limit=limit)
