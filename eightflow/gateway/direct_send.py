"""One request straight to litellm's transport, without httpx's client layers around it.

``httpx.AsyncClient.send`` wraps each request in an auth flow, a redirect loop, event
hooks, a cookie-jar update and an INFO log line around the transport's own exchange. For
the gateway's exchange-path calls none of them does anything: the OpenAI SDK builds the
request on :class:`eightflow.gateway.exchange.ExchangeClient` (whose jar, empty, is the one
merged into it), authenticates with a header, and sets no hooks. Yet they cost about 40 us
of CPU per request (110-120 -> 70-79 us for building and sending one against a canned
transport, in two runs of interleaved rounds; about 1% of a call), much of it the cookie
jar: a ``http.cookiejar`` request object built per answer to find no ``Set-Cookie``.

:func:`send` does what ``AsyncClient._send_single_request`` does (the client's transport
for the URL, its timeout, the response bound to its request and timed, the log line) and
reads the body as ``AsyncClient.send`` does, whenever :func:`can_send_direct` finds the
client plain at that moment: httpx's own, unwrapped ``send`` (an instrumentation that
patches it, e.g. a tracer, keeps it), no auth, no event hooks, and the private parts of
httpx used here present with the signatures this code expects (httpx 0.27's timed stream
took other arguments: such an httpx keeps the whole ``send``). Anything else goes
through the client's whole ``send``. An answer that redirects is handed to httpx's own
redirect handling from there, so it is followed (or not) as the client would, with the
request sent once.
"""

from __future__ import annotations

import inspect
import logging
import sys
import time
from functools import cache
from typing import Any

import httpx

_log = logging.getLogger("httpx")  # the logger httpx reports each request on

try:  # private to httpx: checked here, and the whole send is used without them
    from httpx._client import BoundAsyncStream
    from httpx._exceptions import request_context
except ImportError:  # pragma: no cover - depends on the installed httpx
    BoundAsyncStream = None  # type: ignore[assignment,misc]
    request_context = None  # type: ignore[assignment]

_HTTPX_CLIENT_FILE = getattr(sys.modules.get("httpx._client"), "__file__", None)
_NEEDED = (
    "_transport_for_url",
    "_set_timeout",
    "_event_hooks",
    "_auth",
    "_default_encoding",
    "_build_redirect_request",
    "_send_handling_redirects",
)


@cache
def _httpx_parts_fit() -> bool:
    """httpx's private parts are the ones this module was written against."""
    if BoundAsyncStream is None or request_context is None:
        return False
    try:
        params = inspect.signature(BoundAsyncStream).parameters
    except (TypeError, ValueError):
        return False
    return list(params) == ["stream", "response", "start"]


def _plain_send(cls: type[Any]) -> bool:
    """``cls.send`` is httpx's own function, not one an instrumentation put in its place
    (asked on every request: a tracer may patch the class at any time)."""
    send = getattr(cls, "send", None)
    code = getattr(send, "__code__", None)
    return (
        code is not None
        and not hasattr(send, "__wrapped__")
        and code.co_filename == _HTTPX_CLIENT_FILE  # not AsyncClient.send: it may be patched
        and getattr(send, "__qualname__", "") == "AsyncClient.send"
    )


def can_send_direct(client: Any) -> bool:
    """True when ``client``'s ``send`` would add nothing to the transport's exchange now."""
    if not isinstance(client, httpx.AsyncClient) or not _httpx_parts_fit():
        return False
    if not _plain_send(type(client)) or "send" in vars(client):
        return False
    if not all(hasattr(client, name) for name in _NEEDED):
        return False
    hooks = client._event_hooks
    return client._auth is None and not hooks.get("request") and not hooks.get("response")


async def send(client: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
    """``client.send(request, **kwargs)``, without httpx's client layers when they are idle."""
    stream = bool(kwargs.pop("stream", False))
    url = request.url
    if kwargs or url.username or url.password or client.is_closed or not can_send_direct(client):
        # per-request auth or redirects, credentials in the URL, a closed client (its send
        # says so), or a client whose layers may do something
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
    try:
        if response.has_redirect_location:
            response = await _redirected(client, request, response)
        if not stream:
            await response.aread()
    except BaseException:
        await response.aclose()
        raise
    return response


async def _redirected(
    client: httpx.AsyncClient, request: httpx.Request, response: httpx.Response
) -> httpx.Response:
    """What httpx's redirect loop does with this answer, from here on (the request is not
    sent again): the next request built with the client's cookies, followed or not."""
    client.cookies.extract_cookies(response)  # as httpx would have, for the next request
    next_request = client._build_redirect_request(request, response)
    if not client.follow_redirects:
        response.next_request = next_request
        return response
    await response.aread()
    return await client._send_handling_redirects(
        next_request, follow_redirects=True, history=[response]
    )
