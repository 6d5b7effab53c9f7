"""Retry policies, recovery decisions, and the jittered delay list handed to Prefect."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from eightflow import Recovery, RetryPolicy
from eightflow.compiler.task_options import JitteredDelays, step_task_options


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param(
            RetryPolicy.exponential(),
            {
                "max_attempts": 3,
                "initial_delay": 1.0,
                "max_delay": 60.0,
                "multiplier": 2.0,
                "jitter": 0.1,
            },
            id="exponential defaults",
        ),
        pytest.param(
            RetryPolicy.exponential(
                5, initial_delay=0.5, max_delay=4.0, multiplier=3.0, jitter=0.2
            ),
            {
                "max_attempts": 5,
                "initial_delay": 0.5,
                "max_delay": 4.0,
                "multiplier": 3.0,
                "jitter": 0.2,
            },
            id="exponential custom",
        ),
        pytest.param(
            RetryPolicy.fixed(4, delay=2.5),
            {
                "max_attempts": 4,
                "initial_delay": 2.5,
                "max_delay": 2.5,
                "multiplier": 1.0,
                "jitter": 0.0,
            },
            id="fixed",
        ),
        pytest.param(
            RetryPolicy.fixed(2, delay=0.01, jitter=0.5),
            {
                "max_attempts": 2,
                "initial_delay": 0.01,
                "max_delay": 0.01,
                "multiplier": 1.0,
                "jitter": 0.5,
            },
            id="fixed jittered",
        ),
        pytest.param(
            RetryPolicy.none(),
            {
                "max_attempts": 1,
                "initial_delay": 1.0,
                "max_delay": 60.0,
                "multiplier": 2.0,
                "jitter": 0.0,
            },
            id="none",
        ),
    ],
)
def test_constructors(policy: RetryPolicy, expected: dict[str, float]) -> None:
    assert policy.model_dump() == expected
    assert policy.retries == expected["max_attempts"] - 1


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        pytest.param(
            RetryPolicy.exponential(6, 1.0, 10.0, 2.0), [1, 2, 4, 8, 10, 10], id="exp capped"
        ),
        pytest.param(
            RetryPolicy.exponential(4, 0.5, 60.0, 3.0), [0.5, 1.5, 4.5, 13.5], id="exp x3"
        ),
        pytest.param(RetryPolicy.exponential(3, 5.0, 2.0), [2.0, 2.0, 2.0], id="initial over cap"),
        pytest.param(RetryPolicy.fixed(4, delay=0.25), [0.25, 0.25, 0.25, 0.25], id="fixed"),
        pytest.param(RetryPolicy.fixed(3, delay=0.0), [0.0, 0.0, 0.0], id="zero"),
    ],
)
def test_base_delays_are_capped(policy: RetryPolicy, delays: list[float]) -> None:
    assert [policy.base_delay(i) for i in range(len(delays))] == pytest.approx(delays)
    assert all(policy.base_delay(i) <= policy.max_delay for i in range(30))


@pytest.mark.parametrize("jitter", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("retry_index", [0, 2, 9])
def test_jittered_delays_stay_in_band_and_vary(jitter: float, retry_index: int) -> None:
    policy = RetryPolicy.exponential(10, initial_delay=1.0, max_delay=30.0, jitter=jitter)
    base = policy.base_delay(retry_index)
    rng = random.Random(42)
    values = [policy.delay(retry_index, rng) for _ in range(300)]
    assert all(base * (1 - jitter) <= v <= base * (1 + jitter) for v in values)
    assert len(set(values)) > 250
    # Spread across the band, not clustered at one end.
    assert min(values) < base * (1 - jitter / 2) and max(values) > base * (1 + jitter / 2)


def test_unjittered_delay_is_the_base() -> None:
    policy = RetryPolicy.exponential(4, 1.0, jitter=0.0)
    assert [policy.delay(i) for i in range(3)] == [1.0, 2.0, 4.0]


def test_delay_uses_global_random_without_rng() -> None:
    policy = RetryPolicy.fixed(3, delay=1.0, jitter=0.3)
    values = {policy.delay(0) for _ in range(50)}
    assert len(values) > 40 and all(0.7 <= v <= 1.3 for v in values)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": 51},
        {"initial_delay": -1.0},
        {"multiplier": 0.5},
        {"jitter": 1.5},
        {"jitter": -0.1},
    ],
)
def test_invalid_policies_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        RetryPolicy(**kwargs)


def test_policy_is_frozen() -> None:
    policy = RetryPolicy.fixed(2)
    with pytest.raises(ValidationError):
        policy.max_attempts = 5  # type: ignore[misc]


# -- recovery ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recovery", "expected"),
    [
        pytest.param(
            Recovery.retry(),
            {"action": "retry", "outputs": {}, "model": None, "reason": None},
            id="retry",
        ),
        pytest.param(
            Recovery.retry("flaky"),
            {"action": "retry", "outputs": {}, "model": None, "reason": "flaky"},
            id="retry why",
        ),
        pytest.param(
            Recovery.fail_workflow("no"),
            {"action": "fail_workflow", "outputs": {}, "model": None, "reason": "no"},
            id="fail",
        ),
        pytest.param(
            Recovery.skip(summary="", topics=[]),
            {
                "action": "skip",
                "outputs": {"summary": "", "topics": []},
                "model": None,
                "reason": None,
            },
            id="skip",
        ),
        pytest.param(
            Recovery.fallback("openai/gpt-4o-mini", reason="down"),
            {"action": "fallback", "outputs": {}, "model": "openai/gpt-4o-mini", "reason": "down"},
            id="fallback",
        ),
    ],
)
def test_recovery_constructors(recovery: Recovery, expected: dict[str, object]) -> None:
    assert recovery.model_dump() == expected


def test_fallback_needs_a_model() -> None:
    with pytest.raises(ValueError, match="model string"):
        Recovery.fallback("")


def test_recovery_rejects_unknown_actions() -> None:
    with pytest.raises(ValidationError):
        Recovery(action="explode")  # type: ignore[arg-type]


# -- the delay list given to Prefect -------------------------------------------------------


def test_jittered_delays_iterate_base_and_index_jittered() -> None:
    policy = RetryPolicy.exponential(4, initial_delay=1.0, max_delay=3.0, jitter=0.5)
    delays = JitteredDelays(policy)
    assert list(delays) == [1.0, 2.0, 3.0]
    assert len(delays) == 3
    assert isinstance(delays, list)
    for i, base in enumerate([1.0, 2.0, 3.0]):
        seen = {delays[i] for _ in range(100)}
        assert len(seen) > 90, "index access re-draws the jitter each time"
        assert all(base * 0.5 <= v <= base * 1.5 for v in seen)
    assert delays[0:2] == [1.0, 2.0]


def test_jittered_delays_without_jitter_are_exact() -> None:
    delays = JitteredDelays(RetryPolicy.fixed(3, delay=0.2))
    assert list(delays) == [0.2, 0.2] and [delays[0], delays[1]] == [0.2, 0.2]


def test_jittered_delays_with_no_retries_keep_one_entry() -> None:
    assert list(JitteredDelays(RetryPolicy.none())) == [1.0]


def test_jittered_delays_negative_index_is_the_last_delay() -> None:
    delays = JitteredDelays(
        RetryPolicy.exponential(4, initial_delay=1.0, max_delay=60.0, jitter=0.0)
    )
    assert delays[-1] == list(delays)[-1] == 4.0


@pytest.mark.parametrize(
    ("policy", "retries", "delay_type"),
    [
        (RetryPolicy.none(), 0, int),
        (RetryPolicy.fixed(3, delay=0.1), 2, JitteredDelays),
        (RetryPolicy.exponential(5), 4, JitteredDelays),
    ],
)
def test_step_task_options(policy: RetryPolicy, retries: int, delay_type: type) -> None:
    options = step_task_options(policy, "summarization")
    assert options["name"] == "summarization"
    assert options["retries"] == retries
    assert isinstance(options["retry_delay_seconds"], delay_type)
    assert options["persist_result"] is False
