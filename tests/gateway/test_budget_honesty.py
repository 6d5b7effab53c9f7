"""The budget holds: failed calls that may be billed are charged, the crossing call is
cached, and overshoot is bounded by the calls in flight when the cap was crossed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from eightflow.errors import BudgetExceeded, ModelTemporaryError, UnpricedModelError
from eightflow.runtime.budget import Budget
from eightflow.runtime.limiter import CallLimiter
from eightflow.runtime.run_state import RunState, current_run
from eightflow.testing import StubConfig, StubServer

MODEL = "openai/gpt-4o-mini"
PROMPT_TOKENS, COMPLETION_TOKENS = 1000, 1000


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "b" * 32)
    config = StubConfig(prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS)
    with StubServer(config) as server:
        yield server


def per_call_cost() -> float:
    import litellm

    cost_in, cost_out = litellm.cost_per_token(
        model=MODEL, prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS
    )
    return float(cost_in + cost_out)


async def ask(gateway: object, run: RunState, text: str) -> object:
    token = current_run.set(run)
    try:
        return await gateway.complete("sentiment", text)  # type: ignore[attr-defined]
    finally:
        current_run.reset(token)


def gateway_for(stub: StubServer, timeout_s: float | None = None) -> object:
    from eightflow.gateway import ModelGateway

    return ModelGateway(MODEL, api_base=stub.api_base, timeout_s=timeout_s)


@pytest.mark.parametrize(
    ("fault", "charged"),
    [
        pytest.param("timeout", True, id="timed out: may be billed"),
        pytest.param("reset", True, id="connection lost: may be billed"),
        pytest.param("500", True, id="server error: may be billed"),
        pytest.param("429", False, id="rate limited: refused, not billed"),
        pytest.param("503", False, id="unavailable: refused, not billed"),
    ],
)
async def test_a_failed_call_is_charged_its_estimate_when_it_may_be_billed(
    stub: StubServer, fault: str, charged: bool
) -> None:
    stub.configure(status_script=[fault], timeout_hang_s=2)
    budget = Budget(max_cost_usd=1.0)
    run = RunState(workflow="w", version="v", budget=budget)
    with pytest.raises(ModelTemporaryError):
        await ask(gateway_for(stub, timeout_s=0.5), run, "a calm day")
    assert budget._reserved_usd == pytest.approx(0.0) and budget.in_flight == 0
    if charged:
        assert budget.spent_usd > 0 and budget.charged_failures == 1
    else:
        assert budget.spent_usd == 0 and budget.charged_failures == 0


async def test_the_call_that_crosses_the_cap_is_cached_before_the_budget_refuses(
    stub: StubServer, tmp_path: Path
) -> None:
    from eightflow.store.cache import ResponseCache

    cache = ResponseCache(tmp_path / "cache.sqlite")
    # Room for the prompt estimate, not for the real (1000 + 1000 token) answer.
    budget = Budget(max_cost_usd=per_call_cost() / 10)
    run = RunState(workflow="w", version="v", budget=budget, cache=cache)
    gateway = gateway_for(stub)
    with pytest.raises(BudgetExceeded):
        await ask(gateway, run, "a calm day")
    assert stub.stats()["calls"] == 1 and budget.exhausted == "max_cost_usd"
    cache.flush()
    assert len(cache) == 1  # paid for, so kept
    # A re-run (a fresh budget) is served from the cache: the provider is not paid twice.
    rerun = RunState(workflow="w", version="v", budget=Budget(max_cost_usd=1.0), cache=cache)
    generation = await ask(gateway, rerun, "a calm day")
    assert generation.cache_hit and stub.stats()["calls"] == 1  # type: ignore[attr-defined]
    cache.close()


@pytest.mark.parametrize("concurrency", [1, 4, 8])
async def test_overshoot_is_bounded_by_the_calls_in_flight_at_the_crossing(
    stub: StubServer, concurrency: int
) -> None:
    stub.configure(latency_ms=30, latency_jitter_ms=20)
    cost = per_call_cost()
    cap = cost * 5.5
    budget = Budget(max_cost_usd=cap)
    run = RunState(workflow="w", version="v", budget=budget, limiter=CallLimiter(concurrency))
    gateway = gateway_for(stub)
    results = await asyncio.gather(
        *(ask(gateway, run, f"text {i}") for i in range(40)), return_exceptions=True
    )
    made = stub.stats()["calls"]
    crossing = budget.in_flight_at_crossing
    assert crossing is not None and 1 <= crossing <= concurrency
    assert all(isinstance(r, BudgetExceeded) for r in results if isinstance(r, Exception))
    # Spend passes the cap by at most the calls that were in flight when it was crossed.
    assert budget.spent_usd >= cap
    assert budget.spent_usd - cap <= crossing * cost
    calls_before_crossing = int(cap // cost) + 1  # the sixth answer crossed it
    assert made <= calls_before_crossing + crossing - 1
    assert budget.spent_usd == pytest.approx(made * cost)  # every call made was counted


def test_a_cost_cap_on_an_unpriced_model_refuses_to_start() -> None:
    from eightflow.gateway.pricing import require_price

    with pytest.raises(UnpricedModelError) as caught:
        require_price("openai/no-such-model-xyz")
    message = str(caught.value)
    assert "openai/no-such-model-xyz" in message
    assert "prices.json" in message and "register_model" in message
    assert "--allow-unpriced" in message
    require_price("openai/no-such-model-xyz", allow_unpriced=True)  # the override
    require_price(MODEL)  # priced: fine


def test_a_price_file_under_eightflow_home_prices_a_model(home: Path) -> None:
    from eightflow.gateway.pricing import is_priced, require_price

    model = "openai/house-model-for-price-file"
    assert not is_priced(model)
    home.mkdir(parents=True, exist_ok=True)
    (home / "prices.json").write_text(
        f'{{"{model}": {{"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}}}'
    )
    assert is_priced(model)
    require_price(model)
