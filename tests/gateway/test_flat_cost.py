"""A plain answer's price, remembered per model: always litellm's own figure, taken from
litellm whenever anything but the two token counts could change it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from eightflow.gateway import flat_cost, unlogged

TEST_MODEL = "openai/eightflow-test-flat-model"
PLAIN_USAGE = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}


def _litellm() -> Any:
    import litellm

    return litellm


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    flat_cost.forget()
    flat_cost.stats.update(fast=0, litellm=0)
    yield
    flat_cost.forget()
    _litellm().model_cost.pop(TEST_MODEL, None)


async def _both(model: str, words: int, **extra: Any) -> tuple[Any, Any]:
    """The same mock answer through the gateway's door and through plain litellm."""
    request = {
        "model": model,
        "messages": [{"role": "user", "content": "tell me " * words}],
        "mock_response": "an answer " * words,
        "api_key": "sk-test",
        **extra,
    }
    ours = await unlogged.acompletion(**request)
    plain = await _litellm().acompletion(**request)
    return ours._hidden_params["response_cost"], plain._hidden_params["response_cost"]


@pytest.mark.parametrize(
    ("model", "fast"),
    [
        pytest.param("openai/gpt-4o-mini", True, id="flat prices, priority and batch rates beside"),
        pytest.param("gpt-4o", True, id="no provider prefix"),
        pytest.param("deepseek/deepseek-chat", True, id="another provider"),
        pytest.param("gemini/gemini-2.5-pro", False, id="tiered above 200k tokens: litellm's"),
    ],
)
async def test_the_price_is_litellms_and_remembered_only_when_flat(model: str, fast: bool) -> None:
    for words in (1, 7, 40):  # three sizes: a remembered formula must hold for each
        ours, plain = await _both(model, words)
        assert plain and ours == pytest.approx(plain, rel=1e-12)
    # The first answer is always litellm's (the check); the next two by the formula if flat.
    assert flat_cost.stats["fast"] == (2 if fast else 0)


async def test_outside_the_gateway_litellm_prices_every_answer() -> None:
    for _ in range(3):
        await _litellm().acompletion(
            model="openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            mock_response="hello",
            api_key="sk-test",
        )
    assert flat_cost.stats == {"fast": 0, "litellm": 3}


async def test_a_price_registered_later_is_used_at_once() -> None:
    litellm = _litellm()
    entry = {"litellm_provider": "openai", "mode": "chat"}
    litellm.register_model({TEST_MODEL: {**entry, "input_cost_per_token": 1e-6,
                                         "output_cost_per_token": 2e-6}})  # fmt: skip
    await _both(TEST_MODEL, 3)
    await _both(TEST_MODEL, 3)
    assert flat_cost.stats["fast"] == 1
    litellm.register_model({TEST_MODEL: {**entry, "input_cost_per_token": 5e-6,
                                         "output_cost_per_token": 9e-6}})  # fmt: skip
    ours, plain = await _both(TEST_MODEL, 5)
    assert ours == pytest.approx(plain, rel=1e-12)
    # A size tier added to the entry: from then on litellm prices every answer again.
    litellm.model_cost[TEST_MODEL]["input_cost_per_token_above_128k_tokens"] = 1e-5
    before = flat_cost.stats["fast"]
    ours, plain = await _both(TEST_MODEL, 5)
    assert ours == pytest.approx(plain, rel=1e-12) and flat_cost.stats["fast"] == before


@pytest.mark.parametrize(
    "schedule",
    [
        {"tiered_pricing": [{"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                             "range": [0, 1000]}]},
        {"off_peak_pricing": {"input_cost_per_token": 5e-7, "output_cost_per_token": 1e-6,
                              "windows": [{"hours_utc": "00:00-00:00", "weekdays": [6, 7]}]}},
        {"input_cost_per_token_above_128k_tokens": 2e-6},
    ],
    ids=["by range", "by time of day", "above a size"],
)  # fmt: skip
async def test_a_price_that_depends_on_more_than_tokens_is_never_remembered(
    schedule: dict[str, Any],
) -> None:
    entry = {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-6,
             "output_cost_per_token": 2e-6, **schedule}  # fmt: skip
    _litellm().register_model({TEST_MODEL: entry})
    for words in (2, 3, 4):
        ours, plain = await _both(TEST_MODEL, words)
        assert ours == pytest.approx(plain, rel=1e-12)
    assert flat_cost.stats["fast"] == 0


async def test_an_answer_with_no_tokens_leaves_the_check_for_the_next() -> None:
    from litellm.cost_calculator import response_cost_calculator as litellms

    empty = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    kwargs = {"model": "gpt-4o-mini", "custom_llm_provider": "openai",
              "call_type": "acompletion", "optional_params": {}, "cache_hit": False}  # fmt: skip
    with flat_cost.pricing_answers():
        flat_cost._priced(litellms, response_object=_response(empty), **kwargs)
        assert not flat_cost._verdicts  # nothing could be checked: no verdict either way
        flat_cost._priced(litellms, response_object=_response(PLAIN_USAGE), **kwargs)
        flat_cost._priced(litellms, response_object=_response(PLAIN_USAGE), **kwargs)
    assert flat_cost.stats["fast"] == 1


def _response(usage: dict[str, Any], **fields: Any) -> Any:
    litellm = _litellm()
    return litellm.ModelResponse(
        model="gpt-4o-mini",
        choices=[{"index": 0, "message": {"role": "assistant", "content": "x"}}],
        usage=usage,
        **fields,
    )


@pytest.mark.parametrize(
    ("usage", "fields", "extra"),
    [
        pytest.param({**PLAIN_USAGE, "prompt_tokens_details": {"cached_tokens": 100}}, {}, {},
                     id="cached prompt tokens"),
        pytest.param({**PLAIN_USAGE, "completion_tokens_details": {"reasoning_tokens": 20}}, {},
                     {}, id="reasoning tokens"),
        pytest.param(PLAIN_USAGE, {"service_tier": "priority"}, {}, id="served at priority"),
        pytest.param(PLAIN_USAGE, {}, {"optional_params": {"service_tier": "flex"}},
                     id="asked for flex"),
        pytest.param(PLAIN_USAGE, {}, {"custom_pricing": True}, id="custom prices"),
        pytest.param(PLAIN_USAGE, {}, {"base_model": "gpt-4o"}, id="a base model"),
        pytest.param(PLAIN_USAGE, {}, {"cache_hit": True}, id="a cache hit"),
    ],
)  # fmt: skip
def test_anything_but_two_token_counts_is_priced_by_litellm(
    usage: dict[str, Any], fields: dict[str, Any], extra: dict[str, Any]
) -> None:
    from litellm.cost_calculator import response_cost_calculator as litellms

    def kwargs(response: Any, **more: Any) -> dict[str, Any]:
        return {"response_object": response, "model": "gpt-4o-mini",
                "custom_llm_provider": "openai", "call_type": "acompletion",
                "optional_params": {}, "cache_hit": False, **more}  # fmt: skip

    with flat_cost.pricing_answers():
        flat_cost._priced(litellms, **kwargs(_response(PLAIN_USAGE)))  # remembered as flat
        plain = kwargs(_response(PLAIN_USAGE))
        assert flat_cost._priced(litellms, **plain) == pytest.approx(litellms(**plain))
        assert flat_cost.stats["fast"] == 1
        odd = kwargs(_response(usage, **fields), **extra)
        assert flat_cost._priced(litellms, **odd) == pytest.approx(litellms(**odd), rel=1e-12)
    assert flat_cost.stats["fast"] == 1
