"""Provider failures as eightflow's own errors: temporary (retried) or permanent (not).

litellm's exception classes do not pickle reliably, and Prefect serializes task
failures, so every provider exception is mapped here before it leaves the gateway.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import litellm

from eightflow.errors import BudgetExceeded, ModelError, ModelPermanentError, ModelTemporaryError
from eightflow.gateway.model_names import provider_of

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
    fields["retry_after"] = retry_after_of(exc)
    # A call the provider refused up front (429, 503) was not billed; one that timed out,
    # lost its connection or came back garbled may have been.
    fields["billable"] = not isinstance(
        exc, litellm.RateLimitError | litellm.ServiceUnavailableError
    ) and status not in (429, 503)
    if isinstance(exc, (*_TEMPORARY, asyncio.TimeoutError, json.JSONDecodeError)):
        return ModelTemporaryError(message, **fields)
    if isinstance(status, int) and 400 <= status < 500 and status not in (408, 409, 429):
        fields.pop("retry_after")
        fields.pop("billable")
        return ModelPermanentError(message, **fields)
    # Unknown provider failures (malformed bodies, 5xx without a class) are worth a retry.
    return ModelTemporaryError(message, **fields)


MAX_RETRY_AFTER_S = 300.0


def headers_of(exc: BaseException) -> Any:
    """The provider's response headers carried by a litellm error; None if it has none."""
    headers: Any = getattr(exc, "litellm_response_headers", None)
    if not headers:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    return headers or None


def retry_after_of(exc: BaseException) -> float | None:
    """The provider's ``Retry-After`` (seconds or an HTTP date), capped; None if absent."""
    headers = headers_of(exc)
    if not headers:
        return None
    try:
        value = headers.get("retry-after-ms")
        if value is not None:
            return min(max(float(value) / 1000.0, 0.0), MAX_RETRY_AFTER_S)
        value = headers.get("retry-after")
    except Exception:
        return None
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(str(value))
        except (TypeError, ValueError):
            return None
        from datetime import UTC, datetime

        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _clean_message(text: str, limit: int = 500) -> str:
    from eightflow.safety.sanitize import sanitize_text

    return sanitize_text(text.replace("\n", " "), limit=limit)


def budget_cause(exc: BaseException) -> BudgetExceeded | None:
    """The ``BudgetExceeded`` behind ``exc``, if any (litellm wraps what a provider raises)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, BudgetExceeded):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
