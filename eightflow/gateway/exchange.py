"""A call's limiter slot held around its HTTP exchange, not around litellm's whole call.

``concurrency`` bounds what a provider counts: requests in flight at its end. Held around
``litellm.acompletion`` as a whole, a slot also covered litellm's own work on both sides of
the exchange (building the request in a worker thread and the hop back, then parsing and
pricing the answer): milliseconds of CPU per call, and longer while the event loop was busy
with other documents. At 8 calls in flight and 100 ms answers a batch therefore ran at
about 1.17x its 50 s ideal, with fewer than 8 requests at the provider most of the time.

For calls litellm makes through the OpenAI SDK to a base URL the operator configured
(``openai/...`` models with an ``api_base``: OpenAI-compatible servers, gateways, the
stubs) the gateway passes litellm an SDK client of its own (:func:`sdk_client`). Its HTTP
client enters the run's limiter around each request it sends: the local slot, the
provider's pacing, the shared gates, then the budget's reservation and the call's count,
taken as the request goes out and given back once the answer's body is read. The HTTP
work is litellm's own client (its transport, proxy and TLS settings), which this one only
wraps. Every other call keeps the slot around the whole call (:mod:`eightflow.gateway.call`).

The key and the base URL are the ones the gateway put in the request, so litellm would
have sent them to the same place: a client is made only for an explicit ``api_base`` and
``api_key`` (litellm's own fallbacks, environment variables included, never come into it).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from eightflow.gateway.errors import provider_of
from eightflow.runtime.budget import Reservation
from eightflow.runtime.limiter import CallLease, CallLimiter


@dataclass
class Exchange:
    """One model call's admission, entered by the request that actually goes out."""

    limiter: CallLimiter
    model: str
    tokens: int
    reserve: Callable[[], Awaitable[Reservation]]  # the budget's reservation, and the count
    reservation: Reservation | None = None
    requests: int = 0

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[CallLease]:
        async with self.limiter.slot(self.model, self.tokens) as lease:
            self.requests += 1
            if self.reservation is None:  # once per call, whatever the SDK sends
                self.reservation = await self.reserve()
            yield lease

    def heard(self, response: httpx.Response, lease: CallLease) -> None:
        """What the limiter learns from an answer: a 429 and its headers, or a success."""
        status = response.status_code
        if status == 429:
            self.limiter.rate_limited()
            lease.refused(response.headers)
        elif 200 <= status < 300:
            self.limiter.succeeded()
            lease.answered(_total_tokens(response), response.headers)


_current: ContextVar[Exchange | None] = ContextVar("eightflow_exchange", default=None)


def _total_tokens(response: httpx.Response) -> int:
    """``usage.total_tokens`` of an OpenAI-shaped JSON answer; 0 when it has none."""
    try:
        usage = json.loads(response.content).get("usage") or {}
        return int(usage.get("total_tokens") or 0)
    except (ValueError, TypeError, AttributeError):
        return 0


class ExchangeClient(httpx.AsyncClient):
    """litellm's HTTP client, with each request sent inside the current call's slot.

    The OpenAI SDK builds its requests on this client and sends them with :meth:`send`,
    which the wrapped client does: its transport, mounts, redirects and TLS are litellm's.
    Outside a call (no :class:`Exchange` set) a request goes through unbounded, as before.
    """

    def __init__(self, inner: httpx.AsyncClient) -> None:
        super().__init__(transport=_NOT_USED, follow_redirects=True)
        self._inner = inner

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        exchange = _current.get()
        if exchange is None:
            return await self._inner.send(request, **kwargs)
        async with exchange.hold() as lease:
            response = await self._inner.send(request, **kwargs)
            if kwargs.get("stream"):
                await response.aread()  # the slot lasts until the provider has answered
            exchange.heard(response, lease)
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()
        await super().aclose()


class _NotUsed(httpx.AsyncBaseTransport):
    """The outer client's own transport: every request goes to the wrapped client."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("ExchangeClient sends through the wrapped client only")


_NOT_USED = _NotUsed()
_clients: dict[tuple[str, str], Any] = {}


def applies(model: str, request: dict[str, Any]) -> bool:
    """True when the call goes through the OpenAI SDK to the base URL the gateway set."""
    return (
        provider_of(model) == "openai"
        and bool(request.get("api_base"))
        and bool(request.get("api_key"))
        and not request.get("client")
    )


def sdk_client(api_base: str, api_key: str) -> Any:
    """One OpenAI SDK client per base URL and key, sending through :class:`ExchangeClient`.

    SDK retries are off (Prefect's task retries are the one retry layer); the timeout is
    the request's, which litellm passes with each call.
    """
    key = (api_base, api_key)
    client = _clients.get(key)
    if client is None:
        from litellm.llms.openai.common_utils import BaseOpenAILLM
        from openai import AsyncOpenAI

        inner = BaseOpenAILLM._get_async_http_client() or httpx.AsyncClient(follow_redirects=True)
        client = AsyncOpenAI(
            api_key=api_key,
            base_url=api_base,
            http_client=ExchangeClient(inner),
            max_retries=0,
        )
        _clients[key] = client
    return client


async def acompletion_in_exchange(
    send: Callable[..., Awaitable[Any]], request: dict[str, Any], exchange: Exchange
) -> Any:
    """``send(**request)`` with ``exchange`` entered by the request that goes out."""
    request["client"] = sdk_client(request["api_base"], request["api_key"])
    token = _current.set(exchange)
    try:
        return await send(**request)
    finally:
        _current.reset(token)
