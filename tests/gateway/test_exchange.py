"""The limiter's slot is held around the HTTP exchange of OpenAI-compatible calls only."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from eightflow.errors import ModelTemporaryError
from eightflow.gateway import ModelGateway, exchange
from eightflow.gateway.unlogged import _CALLBACK_LISTS
from eightflow.runtime.limiter import CallLimiter
from eightflow.runtime.pacing import pacer_for, reset_pacers
from tests.support.stub_server import StubConfig, StubServer

MODEL = "openai/gpt-4o-mini"
SET = {"api_base": "http://127.0.0.1:9/v1", "api_key": "k"}  # a base URL and key the gateway set


@pytest.fixture(autouse=True)
def fresh_routes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test asks litellm afresh, and leaves no client or pacer behind."""
    import weakref

    monkeypatch.setattr(exchange, "_clients", weakref.WeakKeyDictionary())
    monkeypatch.setattr(exchange, "_sends_chat", {})
    monkeypatch.setattr(exchange, "_past_the_client", set())
    reset_pacers()
    yield
    reset_pacers()


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch, home: object) -> Iterator[StubServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "x" * 32)
    with StubServer(StubConfig(prompt_tokens=11, completion_tokens=5)) as server:
        yield server


def _gateway(stub: StubServer, concurrency: int) -> ModelGateway:
    gateway = ModelGateway(MODEL, api_base=stub.api_base)
    gateway._limiter = CallLimiter(concurrency)  # the limiter a call outside a run uses
    return gateway


@pytest.mark.parametrize(
    ("narrow", "held_while_litellm_builds_the_request"),
    [
        pytest.param(True, 0, id="OpenAI-compatible base URL: slot around the exchange"),
        pytest.param(False, 1, id="any other call: slot around litellm's whole call"),
    ],
)
async def test_the_slot_is_not_held_while_litellm_prepares_the_call(
    stub: StubServer,
    monkeypatch: pytest.MonkeyPatch,
    narrow: bool,
    held_while_litellm_builds_the_request: int,
) -> None:
    import litellm
    from litellm.integrations.custom_logger import CustomLogger

    gateway = _gateway(stub, 4)
    seen: list[int] = []

    class PreCall(CustomLogger):  # litellm calls it once the request is built, before sending
        def log_pre_api_call(self, model: Any, messages: Any, kwargs: Any) -> None:
            seen.append(gateway._limiter.in_flight)

    for name in _CALLBACK_LISTS:  # litellm copies a callback into its other lists
        monkeypatch.setattr(litellm, name, [])
    monkeypatch.setattr(litellm, "callbacks", [PreCall()])
    if not narrow:
        monkeypatch.setattr(exchange, "applies", lambda model, request: False)
    generation = await gateway.complete("sentiment", "a calm day")
    assert (generation.tokens_in, generation.tokens_out) == (11, 5)
    assert seen and set(seen) == {held_while_litellm_builds_the_request}
    assert gateway._limiter.peak_in_flight == 1  # the request itself went out in a slot
    assert gateway._limiter.in_flight == 0


async def test_requests_at_the_provider_never_exceed_the_concurrency(stub: StubServer) -> None:
    """The bound itself (held before the change too): slots are entered by every request."""
    stub.configure(latency_ms=150)
    gateway = _gateway(stub, 2)
    texts = [f"document number {i}" for i in range(8)]
    await asyncio.gather(*(gateway.complete("sentiment", text) for text in texts))
    stats = stub.stats()
    assert stats["calls"] == 8
    assert stats["max_in_flight"] == 2  # reached, never passed
    assert gateway._limiter.in_flight == 0


async def test_a_429_is_heard_by_the_limiter_with_its_headers(stub: StubServer) -> None:
    stub.configure(status_script=[429], retry_after_s=30)
    gateway = _gateway(stub, 4)
    with pytest.raises(ModelTemporaryError):
        await gateway.complete("sentiment", "a calm day")
    assert gateway._limiter.rate_limited_calls == 1
    assert gateway._limiter.in_flight == 0
    # The 429's Retry-After reached the provider's pacer: the next call would wait for it.
    assert pacer_for(MODEL).blocked_until > time.monotonic() + 20
    reset_pacers()
    generation = await gateway.complete("sentiment", "a second day")  # the script is spent
    assert generation.tokens_in == 11


async def test_a_cancelled_call_gives_its_slot_back(stub: StubServer) -> None:
    stub.configure(latency_ms=5_000)
    gateway = _gateway(stub, 1)
    call = asyncio.create_task(gateway.complete("sentiment", "a slow day"))
    for _ in range(200):  # until the request is at the stub, holding the only slot
        await asyncio.sleep(0.01)
        if stub.stats()["in_flight"]:
            break
    assert gateway._limiter.in_flight == 1
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert gateway._limiter.in_flight == 0
    stub.configure(latency_ms=0)
    assert (await gateway.complete("sentiment", "the next day")).tokens_in == 11


async def test_a_call_litellm_sends_another_way_keeps_the_whole_call_slot_from_then_on(
    stub: StubServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Should litellm not use the client it was given, the model falls back, and says so."""
    from openai import AsyncOpenAI

    def bypassed(api_base: str, api_key: str) -> AsyncOpenAI:  # a client without the hook
        return AsyncOpenAI(api_key=api_key, base_url=api_base, max_retries=0)

    monkeypatch.setattr(exchange, "sdk_client", bypassed)
    gateway = _gateway(stub, 4)
    request = {"api_base": stub.api_base, "api_key": "k"}
    assert exchange.applies(MODEL, request)
    with caplog.at_level(logging.WARNING, logger=exchange.__name__):
        await gateway.complete("sentiment", "a calm day")
    assert "without sending it through eightflow's client" in caplog.text
    assert not exchange.applies(MODEL, request)  # from now on: the whole-call slot


@pytest.mark.parametrize(
    ("cache_hit", "falls_back"),
    [
        pytest.param(True, False, id="litellm's own cache answered: no request, no alarm"),
        pytest.param(False, True, id="answered without passing the client: falls back"),
    ],
)
async def test_an_answer_without_a_request(
    caplog: pytest.LogCaptureFixture, cache_hit: bool, falls_back: bool
) -> None:
    async def send(**request: Any) -> Any:
        return SimpleNamespace(_hidden_params={"cache_hit": cache_hit})

    async def reserve() -> Any:
        raise AssertionError("no request, no reservation")

    request = {"model": MODEL, **SET}
    entry = exchange.Exchange(CallLimiter(1), MODEL, 0, reserve)
    with caplog.at_level(logging.WARNING, logger=exchange.__name__):
        await exchange.acompletion_in_exchange(send, dict(request), entry)
    assert (MODEL in exchange._past_the_client) is falls_back
    assert ("without sending it through" in caplog.text) is falls_back
    assert exchange.applies(MODEL, request) is not falls_back


@pytest.mark.parametrize(
    ("model", "request_extra", "applies"),
    [
        pytest.param(MODEL, SET, True, id="set"),
        pytest.param(MODEL, {"api_key": "k"}, False, id="no base URL: litellm resolves it"),
        pytest.param(MODEL, {"api_base": "http://127.0.0.1:9/v1"}, False, id="no key"),
        pytest.param(
            "anthropic/claude-3-5-haiku-latest",
            {"api_base": "http://127.0.0.1:9", "api_key": "k"},
            False,
            id="not the OpenAI SDK",
        ),
        pytest.param(MODEL, {**SET, "client": object()}, False, id="a client given"),
        pytest.param("openai/o3-pro", SET, False, id="mode responses: litellm's Responses bridge"),
        pytest.param("openai/responses/gpt-4o-mini", SET, False, id="the responses/ prefix"),
        pytest.param(MODEL, {**SET, "tools": [{"type": "x"}]}, False, id="tools"),
        pytest.param(MODEL, {**SET, "reasoning_effort": "low"}, False, id="reasoning options"),
    ],
)
def test_which_calls_hold_the_slot_around_the_exchange(
    model: str, request_extra: dict[str, Any], applies: bool
) -> None:
    assert exchange.applies(model, {"model": model, **request_extra}) is applies


@pytest.mark.parametrize(
    ("switch", "value"),
    [
        pytest.param("route_all_chat_openai_to_responses", True, id="litellm's route-all flag"),
        pytest.param("EXPERIMENTAL_OPENAI_BASE_LLM_HTTP_HANDLER", "true", id="its HTTP handler"),
        pytest.param("secret_manager_client", object(), id="a secret manager (may hold that)"),
    ],
)
def test_litellm_wide_switches_keep_the_whole_call_slot(
    monkeypatch: pytest.MonkeyPatch, switch: str, value: object
) -> None:
    import litellm

    request = dict(SET)
    assert exchange.applies(MODEL, request)
    if switch.isupper():
        monkeypatch.setenv(switch, str(value))
    else:
        monkeypatch.setattr(litellm, switch, value, raising=False)
    assert not exchange.applies(MODEL, request)


async def test_one_sdk_client_per_event_loop_base_url_and_key() -> None:
    first = exchange.sdk_client("http://127.0.0.1:9/v1", "key-a")
    assert exchange.sdk_client("http://127.0.0.1:9/v1", "key-a") is first
    assert exchange.sdk_client("http://127.0.0.1:9/v1", "key-b") is not first
    assert exchange.sdk_client("http://127.0.0.1:10/v1", "key-a") is not first
    assert str(first.base_url).startswith("http://127.0.0.1:9/v1")
    assert first.max_retries == 0  # one retry layer: Prefect's
    assert isinstance(first._client, exchange.ExchangeClient)

    def another_loop() -> object:
        async def make() -> object:
            return exchange.sdk_client("http://127.0.0.1:9/v1", "key-a")

        return asyncio.run(make())

    assert await asyncio.to_thread(another_loop) is not first  # never shared across loops
