"""One request straight to litellm's transport, without httpx's client layers around it.

``httpx.AsyncClient.send`` wraps each request in an auth flow, a redirect loop, event
hooks, a cookie jar update and an INFO log line before and after the transport's own
exchange. For the gateway's exchange-path calls none of them does anything: the OpenAI SDK
builds the request on :class:`eightflow.gateway.exchange.ExchangeClient` (so any cookies
were merged there, and the wrapped client's jar is never read), authenticates with a
header, and sets no hooks. Yet they cost about 40 us of CPU per request (120 -> 79 us for
building and sending one against a canned transport, interleaved rounds; about 1% of a
call), most of it the cookie jar: a ``http.cookiejar`` request object built per answer to
find no ``Set-Cookie``.

:func:`direct_send` does what ``AsyncClient._send_single_request`` does (the wrapped
client's transport for the URL, its timeout, the response bound to its request and timed)
and reads the body as ``send`` does. It is used only when :func:`can_send_direct` finds the
wrapped client plain: httpx's own ``send``, no auth, no event hooks, and the private
attributes this module reads present (another httpx release that drops one keeps the whole
``send``). An answer that redirects is closed and the request sent again through the
client's whole ``send``, so redirects are followed exactly as litellm's client would.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

_log = logging.getLogger("httpx")  # the logger httpx reports each request on

try:  # private to httpx: checked once here, and the whole send is used without them
    from httpx._client import BoundAsyncStream
    from httpx._exceptions import request_context
except ImportError:  # pragma: no cover - depends on the installed httpx
    BoundAsyncStream = None  # type: ignore[assignment,misc]
    request_context = None  # type: ignore[assignment]

_NEEDED = ("_transport_for_url", "_set_timeout", "_event_hooks", "_auth", "_default_encoding")


def can_send_direct(client: Any) -> bool:
    """True when ``client``'s ``send`` would add nothing to the transport's exchange."""
    if BoundAsyncStream is None or request_context is None:
        return False
    if not isinstance(client, httpx.AsyncClient) or type(client).send is not httpx.AsyncClient.send:
        return False
    if not all(hasattr(client, name) for name in _NEEDED):
        return False
    hooks = client._event_hooks
    return client._auth is None and not hooks.get("request") and not hooks.get("response")


async def direct_send(client: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> Any:
    """``client.send(request, **kwargs)`` for a client :func:`can_send_direct` accepted."""
    stream = kwargs.pop("stream", False)
    url = request.url
    if kwargs or url.username or url.password or client.is_closed:  # per-request auth or
        # redirects, credentials in the URL, or a closed client (its send says so)
        return await client.send(request, stream=stream, **kwargs)
    if not isinstance(request.stream, httpx.AsyncByteStream):
        raise RuntimeError("Attempted to send a sync request with an AsyncClient instance.")
    client._set_timeout(request)
    transport = client._transport_for_url(url)
    start = time.perf_counter()
    with request_context(request=request):
        response = await transport.handle_async_request(request)
    body = response.stream
    if not isinstance(body, httpx.AsyncByteStream):  # as httpx's own check
        raise RuntimeError(f"{type(transport).__name__} answered with a synchronous stream")
    response.request = request
    response.stream = BoundAsyncStream(body, response=response, start=start)
    response.default_encoding = client._default_encoding
    if _log.isEnabledFor(logging.INFO):
        _log.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )
    if response.has_redirect_location:  # the client's own send follows it, as it would have
        await response.aclose()
        return await client.send(request, stream=stream)
    if not stream:
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
    return response
