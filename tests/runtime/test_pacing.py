"""Pacing from the provider's rate-limit headers, and a stub that enforces a tokens budget."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from eightflow.errors import ModelTemporaryError
from eightflow.runtime import pacing
from eightflow.runtime.pacing import HeaderPacer, RateHeaders, parse_duration
from tests.support import StubConfig, StubServer


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1s", 1.0),
        ("1m30s", 90.0),
        ("6m0s", 120.0),  # capped: never hold a call longer than MAX_WAIT_S
        ("20ms", 0.02),
        ("1h", 120.0),
        ("2.5", 2.5),
        ("0.250s", 0.25),
        ("soon", None),
        ("5x", None),
        ("-1", None),
        (None, None),
    ],
)
def test_parse_duration(value: str | None, seconds: float | None) -> None:
    assert parse_duration(value) == (pytest.approx(seconds) if seconds is not None else None)


def test_headers_are_read_raw_or_as_litellm_passes_them_on() -> None:
    raw = {"X-RateLimit-Remaining-Tokens": "900", "x-ratelimit-reset-tokens": "1.5s"}
    prefixed = {"llm_provider-" + k.lower(): v for k, v in raw.items()}
    for headers in (raw, prefixed):
        info = RateHeaders.of(headers)
        assert (info.remaining_tokens, info.reset_tokens_s) == (900.0, 1.5)
    assert RateHeaders.of({"retry-after-ms": "250"}).retry_after_s == 0.25
    assert RateHeaders.of({"x-ratelimit-remaining-tokens": "lots"}).remaining_tokens is None
    assert RateHeaders.of(None) == RateHeaders()


def left(tokens: str, reset: str, **more: str) -> dict[str, str]:
    headers = {"x-ratelimit-remaining-tokens": tokens, "x-ratelimit-reset-tokens": reset}
    return {**headers, **{k.replace("_", "-"): v for k, v in more.items()}}


@pytest.mark.parametrize(
    ("headers", "in_flight_tokens", "tokens", "at", "delay"),
    [
        ({}, 0, 500, 0.0, 0.0),  # the provider said nothing: no pacing
        (left("1000", "2s"), 0, 500, 0.0, 0.0),
        (left("400", "2s"), 0, 500, 0.5, 1.5),
        (left("1000", "2s"), 600, 500, 0.0, 2.0),  # calls in flight count against what is left
        # after the reset, the whole budget (when known) is there again
        (left("0", "1s", x_ratelimit_limit_tokens="5000"), 0, 500, 1.5, 0.0),
        ({"retry-after": "3"}, 0, 1, 1.0, 2.0),  # a 429's retry-after holds every call
        (
            {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "500ms"},
            0, 1, 0.0, 0.5,
        ),
    ],
)  # fmt: skip
def test_a_call_waits_while_the_provider_has_too_little_left(
    headers: dict[str, str], in_flight_tokens: int, tokens: int, at: float, delay: float
) -> None:
    pacer = HeaderPacer()
    pacer.observe(headers, now=100.0)
    pacer.in_flight_tokens = in_flight_tokens
    assert pacer.delay_for(tokens, 100.0 + at) == pytest.approx(delay)


def test_a_call_bigger_than_the_whole_window_goes_once_it_is_empty() -> None:
    pacer = HeaderPacer()
    pacer.observe(
        {"x-ratelimit-limit-tokens": "100", "x-ratelimit-remaining-tokens": "100",
         "x-ratelimit-reset-tokens": "1s"},
        now=0.0,
    )  # fmt: skip
    assert pacer.delay_for(500, 0.5) == 0.0


# -- a provider that enforces tokens per window -------------------------------------------

MODEL = "openai/gpt-4o-mini"
TOKENS_PER_CALL = 200  # 100 in + 100 out, as the stub counts them
# Eight calls a window: the first eight (the gateway's limiter) fit before any header is
# known; anything faster than eight a second is refused.
WINDOW_S, BUDGET = 1.0, 1600


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "p" * 32)
    config = StubConfig(
        prompt_tokens=100, completion_tokens=100, tpm_limit=BUDGET, tpm_window_s=WINDOW_S
    )
    with StubServer(config) as server:
        yield server


async def _calls_until_answered(stub: StubServer, calls: int) -> None:
    from eightflow.gateway import ModelGateway

    gateway = ModelGateway(MODEL, api_base=stub.api_base)  # its own limiter: 8 in flight

    async def one(i: int) -> None:
        for _ in range(400):
            try:
                await gateway.complete("sentiment", f"document {i}")
                return
            except ModelTemporaryError:
                await asyncio.sleep(0.02)  # what a caller that ignores the headers does
        raise AssertionError("never answered")

    await asyncio.gather(*(one(i) for i in range(calls)))


@pytest.mark.parametrize(
    ("pacing_on", "most_429s", "fewest_429s"), [(True, 2, 0), (False, None, 10)]
)
async def test_the_stub_sees_nearly_no_429s_with_pacing_and_many_without(
    stub: StubServer,
    monkeypatch: pytest.MonkeyPatch,
    pacing_on: bool,
    most_429s: int | None,
    fewest_429s: int,
) -> None:
    monkeypatch.setenv("EIGHTFLOW_HEADER_PACING", "1" if pacing_on else "0")
    pacing.reset_pacers()
    await _calls_until_answered(stub, 24)
    stats = stub.stats()
    refused = stats["by_outcome"].get("429", 0)
    assert stats["by_outcome"]["ok"] == 24
    assert refused >= fewest_429s
    if most_429s is not None:
        assert refused <= most_429s
