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

litellm does not send every ``openai/...`` call through the SDK client it is given: models
priced as ``mode: responses`` (o1-pro, o3-pro, the -pro and codex models), tools or
reasoning options, and two litellm-wide switches take its Responses bridge or its own HTTP
handler, which build their own clients. :func:`applies` asks litellm's own bridge check and
keeps those calls on the whole-call slot; should a call still come back without having
passed through the client, the model keeps the whole-call slot from then on and a warning
says so (:func:`acompletion_in_exchange`).

The clients belong to one event loop each (litellm scopes its own SDK clients the same
way) and a forked process starts without its parent's.
"""

from __future__ import annotations

import json
import logging
import os
import weakref
from asyncio import AbstractEventLoop, get_running_loop
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from eightflow.gateway import direct_send, inline_start
from eightflow.gateway.errors import provider_of
from eightflow.runtime.budget import Reservation
from eightflow.runtime.limiter import CallLease, CallLimiter

log = logging.getLogger(__name__)


@dataclass
class Exchange:
    """One model call's admission, entered by the request that actually goes out."""

    limiter: CallLimiter
    model: str
    tokens: int
    reserve: Callable[[], Awaitable[Reservation]]  # the budget's reservation, and the count
    reservation: Reservation | None = None
    requests: int = 0
    client: Any = None  # the SDK client litellm was given for this call
    started: bool = False  # litellm's start of this call ran inline (:mod:`.inline_start`)

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


def inline_start_allowed(keywords: dict[str, Any]) -> bool:
    """litellm's start of this context's exchange call, and nothing litellm does that may
    block: once per call, asynchronous, with the exchange's own client and model, and no
    litellm-wide proxy auth or secret manager (both may fetch over HTTP in the start)."""
    exchange = _current.get()
    if exchange is None or exchange.started or exchange.client is None:
        return False
    if keywords.get("acompletion") is not True or keywords.get("client") is not exchange.client:
        return False
    if keywords.get("model") != exchange.model or _litellm_may_block():
        return False
    exchange.started = True
    return True


def _litellm_may_block() -> bool:
    import litellm

    return (
        getattr(litellm, "proxy_auth", None) is not None
        or getattr(litellm, "secret_manager_client", None) is not None
    )


def _litellm_cache_hit(response: Any) -> bool:
    """An answer litellm's own cache served (an operator's ``litellm.cache``): no request."""
    hidden = getattr(response, "_hidden_params", None) or {}
    return bool(hidden.get("cache_hit"))


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
    A plain wrapped client is sent to without httpx's client layers (:mod:`.direct_send`).
    """

    def __init__(self, inner: httpx.AsyncClient) -> None:
        super().__init__(transport=_NOT_USED, follow_redirects=True, trust_env=False)
        self._inner = inner

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        exchange = _current.get()
        if exchange is None:
            return await direct_send.send(self._inner, request, **kwargs)
        async with exchange.hold() as lease:
            response = await direct_send.send(self._inner, request, **kwargs)
            if kwargs.get("stream"):
                try:
                    await response.aread()  # the slot lasts until the provider has answered
                except BaseException:
                    await response.aclose()
                    raise
            exchange.heard(response, lease)
            return response

    async def aclose(self) -> None:
        if self._inner is not _litellm_session():  # the operator's shared session stays open
            await self._inner.aclose()
        await super().aclose()


def _litellm_session() -> Any:
    import litellm

    return getattr(litellm, "aclient_session", None)


class _NotUsed(httpx.AsyncBaseTransport):
    """The outer client's own transport: every request goes to the wrapped client."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("ExchangeClient sends through the wrapped client only")


_NOT_USED = _NotUsed()
_clients: weakref.WeakKeyDictionary[AbstractEventLoop, dict[tuple[str, str], Any]] = (
    weakref.WeakKeyDictionary()
)
_sends_chat: dict[tuple[str, str], bool] = {}  # (model, api_base): litellm's route, asked once
_past_the_client: set[str] = set()  # models a call showed litellm sends another way

# Request options that take litellm's Responses bridge or another path for some models.
_OTHER_ROUTES = ("tools", "functions", "web_search_options", "reasoning_effort", "stream")


def _forget_at_fork() -> None:
    global _clients
    _clients = weakref.WeakKeyDictionary()


os.register_at_fork(after_in_child=_forget_at_fork)


def applies(model: str, request: dict[str, Any]) -> bool:
    """True when litellm sends the call through the OpenAI SDK to the base URL set."""
    api_base = request.get("api_base")
    if provider_of(model) != "openai" or not api_base or not request.get("api_key"):
        return False
    if request.get("client") or any(request.get(name) for name in _OTHER_ROUTES):
        return False
    if model in _past_the_client or _litellm_reroutes_all():
        return False
    key = (model, str(api_base))
    chat = _sends_chat.get(key)
    if chat is None:
        chat = _sends_chat[key] = _litellm_sends_chat(model, str(api_base))
    return chat


def _litellm_reroutes_all() -> bool:
    """litellm's switches that send every OpenAI chat call another way.

    litellm reads its HTTP-handler switch through its secret manager too; with one set, that
    cannot be read here without a round trip, so such a process keeps the whole-call slot.
    """
    import litellm

    if getattr(litellm, "route_all_chat_openai_to_responses", False):
        return True
    if getattr(litellm, "secret_manager_client", None) is not None:
        return True
    flag = os.environ.get("EXPERIMENTAL_OPENAI_BASE_LLM_HTTP_HANDLER", "")
    return flag.strip().lower() not in ("", "0", "false", "no", "off")


def _litellm_sends_chat(model: str, api_base: str) -> bool:
    """litellm's own answer: does this model stay on chat completions (not ``responses``)?"""
    name = model.split("/", 1)[1] if "/" in model else model
    if name.startswith("responses/"):
        return False
    try:
        from litellm.responses.bridge_check import responses_api_bridge_check

        info, _ = responses_api_bridge_check(
            model=name, custom_llm_provider="openai", api_base=api_base
        )
    except Exception:  # a litellm without the check, or one that changed it: stay wide
        return False
    return info.get("mode") != "responses"


def sdk_client(api_base: str, api_key: str) -> Any:
    """This event loop's OpenAI SDK client for a base URL and key, sending through
    :class:`ExchangeClient`.

    SDK retries are off (Prefect's task retries are the one retry layer); the timeout is
    the request's, which litellm passes with each call.
    """
    per_loop = _clients.setdefault(get_running_loop(), {})
    key = (api_base, api_key)
    client = per_loop.get(key)
    if client is None:
        from litellm.llms.openai.common_utils import BaseOpenAILLM
        from openai import AsyncOpenAI

        inner = BaseOpenAILLM.get_async_http_client() or httpx.AsyncClient(follow_redirects=True)
        client = per_loop[key] = AsyncOpenAI(
            api_key=api_key,
            base_url=api_base,
            # The SDK takes an ``httpx`` client as litellm's is (typed for its httpx2 one).
            http_client=ExchangeClient(inner),  # type: ignore[arg-type]
            max_retries=0,
        )
    return client


async def acompletion_in_exchange(
    send: Callable[..., Awaitable[Any]], request: dict[str, Any], exchange: Exchange
) -> Any:
    """``send(**request)`` with ``exchange`` entered by the request that goes out."""
    request["client"] = sdk_client(request["api_base"], request["api_key"])
    exchange.client = request["client"]
    inline_start.install(get_running_loop(), inline_start_allowed)
    token = _current.set(exchange)
    try:
        response = await send(**request)
    finally:
        _current.reset(token)
    if not exchange.requests and not _litellm_cache_hit(response):
        _past_the_client.add(exchange.model)
        log.warning(
            "litellm answered a call to %s without sending it through eightflow's client; "
            "that model's calls now hold their slot for litellm's whole call",
            exchange.model,
        )
    return response
