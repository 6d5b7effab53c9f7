"""AIMD concurrency: bursts of 429s halve the slots, runs of successes win one back."""

from __future__ import annotations

import asyncio

import pytest

from eightflow.runtime.adaptive import AdaptiveLimit, AIMDPolicy
from eightflow.runtime.limiter import CallLimiter


@pytest.mark.parametrize(
    ("times", "limit_after"),
    [
        pytest.param([0.0], 8, id="one stray 429: no cut"),
        pytest.param([0.0, 0.5], 8, id="two: below the burst"),
        pytest.param([0.0, 0.5, 1.0], 4, id="a burst of three: halved"),
        pytest.param([0.0, 3.0, 6.0], 8, id="three, spread out: no burst"),
        pytest.param([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], 4, id="cool-down: one cut per burst"),
        pytest.param([0.0, 0.1, 0.2, 3.0, 3.1, 3.2], 2, id="two bursts: two cuts"),
    ],
)
def test_bursts_cut_the_limit(times: list[float], limit_after: int) -> None:
    limit = AdaptiveLimit(8, AIMDPolicy(burst=3, window_s=2.0, cooldown_s=2.0))
    for t in times:
        limit.rate_limited(now=t)
    assert limit.limit == limit_after
    assert len(limit.changes) == {8: 0, 4: 1, 2: 2}[limit_after]


def test_never_below_the_minimum_and_recorded() -> None:
    limit = AdaptiveLimit(2, AIMDPolicy(burst=1, cooldown_s=0.0))
    for t in range(5):
        limit.rate_limited(now=float(t))
    assert limit.limit == 1
    assert [(c["from"], c["to"]) for c in limit.changes] == [(2, 1)]
    assert limit.changes[0]["event"] == "concurrency" and "rate-limit" in limit.changes[0]["reason"]


def test_successes_win_back_one_slot_per_round_up_to_the_ceiling() -> None:
    limit = AdaptiveLimit(4, AIMDPolicy(burst=1), limit=1)
    grown = [limit.succeeded() for _ in range(1 + 2 + 3 + 10)]
    assert limit.limit == 4  # 1 -> 2 after 1, -> 3 after 2 more, -> 4 after 3 more, then capped
    assert grown.count(True) == 3
    assert [(c["from"], c["to"]) for c in limit.changes] == [(1, 2), (2, 3), (3, 4)]


async def test_the_limiter_holds_calls_to_the_current_limit() -> None:
    limiter = CallLimiter(4, policy=AIMDPolicy(burst=1, cooldown_s=0.0))
    limiter.rate_limited()  # 4 -> 2
    assert limiter.limit == 2
    peak = 0

    async def call() -> None:
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(call() for _ in range(12)))
    assert peak == 2 and limiter.in_flight == 0


async def test_a_won_back_slot_wakes_a_waiting_call() -> None:
    limiter = CallLimiter(2, policy=AIMDPolicy(burst=1, cooldown_s=0.0))
    limiter.rate_limited()  # 2 -> 1
    release = asyncio.Event()
    started: list[int] = []

    async def call(i: int) -> None:
        async with limiter.slot():
            started.append(i)
            await release.wait()

    tasks = [asyncio.create_task(call(i)) for i in range(2)]
    await asyncio.sleep(0.05)
    assert started == [0]  # the second waits for the one slot
    limiter.succeeded()  # one success at limit 1: back to 2, and the waiter goes
    await asyncio.sleep(0.05)
    assert started == [0, 1]
    release.set()
    await asyncio.gather(*tasks)
