"""Run budgets: reservations before a call, settlement after it, and the cap that stops runs."""

from __future__ import annotations

import threading

import pytest

from eightflow import BudgetExceeded
from eightflow.runtime.budget import Budget, Reservation


def test_unlimited_budget_never_raises() -> None:
    budget = Budget()
    assert not budget.limited
    for _ in range(100):
        r = budget.reserve(10_000, 1.0)
        budget.settle(r, 20_000, 2.0)
    assert budget.spent_tokens == 2_000_000 and budget.spent_usd == pytest.approx(200.0)
    assert budget.exhausted is None


def test_reserve_holds_room_and_settle_replaces_it() -> None:
    budget = Budget(max_tokens=100, max_cost_usd=1.0)
    assert budget.limited
    r = budget.reserve(30, 0.2)
    assert r == Reservation(30, 0.2)
    assert (budget._reserved_tokens, budget._reserved_usd) == (30, 0.2)
    assert budget.spent_tokens == 0
    budget.settle(r, 45, 0.3)
    assert (budget._reserved_tokens, budget._reserved_usd) == (0, 0.0)
    assert (budget.spent_tokens, budget.spent_usd) == (45, pytest.approx(0.3))


def test_release_gives_the_reservation_back() -> None:
    budget = Budget(max_tokens=100)
    r = budget.reserve(80, None)
    with pytest.raises(BudgetExceeded):
        Budget(max_tokens=100, _reserved_tokens=80).reserve(30, None)
    budget.release(r)
    assert budget._reserved_tokens == 0 and budget.spent_tokens == 0
    budget.reserve(100, None)  # the whole budget is free again


@pytest.mark.parametrize(
    ("kwargs", "spent", "reserve", "limit"),
    [
        pytest.param({"max_tokens": 100}, (60, None), (41, None), "max_tokens", id="tokens"),
        pytest.param({"max_cost_usd": 0.5}, (10, 0.3), (1, 0.21), "max_cost_usd", id="usd"),
        pytest.param(
            {"max_tokens": 100, "max_cost_usd": 0.5},
            (50, 0.4),
            (51, 0.0),
            "max_tokens",
            id="both: tokens",
        ),
        pytest.param(
            {"max_tokens": 100, "max_cost_usd": 0.5},
            (50, 0.4),
            (10, 0.2),
            "max_cost_usd",
            id="both: usd",
        ),
    ],
)
def test_reserving_past_a_cap_raises_and_exhausts(
    kwargs: dict[str, float],
    spent: tuple[int, float | None],
    reserve: tuple[int, float | None],
    limit: str,
) -> None:
    budget = Budget(**kwargs)  # type: ignore[arg-type]
    budget.settle(budget.reserve(0, None), *spent)
    with pytest.raises(BudgetExceeded) as info:
        budget.reserve(*reserve)
    assert info.value.limit == limit
    assert budget.exhausted == limit
    assert budget._reserved_tokens == 0  # the refused call reserved nothing
    # Once exhausted, even a tiny call is refused, naming the same limit.
    with pytest.raises(BudgetExceeded) as again:
        budget.reserve(0, 0.0)
    assert again.value.limit == limit


def test_reserve_up_to_the_cap_is_allowed() -> None:
    budget = Budget(max_tokens=100, max_cost_usd=1.0)
    budget.reserve(60, 0.5)
    budget.reserve(40, 0.5)
    assert budget.exhausted is None


@pytest.mark.parametrize(
    ("kwargs", "use", "limit", "spent", "cap", "words"),
    [
        pytest.param(
            {"max_tokens": 100},
            (120, 0.0),
            "max_tokens",
            120.0,
            100.0,
            "120 of 100 tokens",
            id="tokens",
        ),
        pytest.param(
            {"max_cost_usd": 0.01},
            (5, 0.02),
            "max_cost_usd",
            0.02,
            0.01,
            "$0.020000 of $0.01",
            id="usd",
        ),
    ],
)
def test_settling_across_a_cap_counts_then_raises(
    kwargs: dict[str, float],
    use: tuple[int, float],
    limit: str,
    spent: float,
    cap: float,
    words: str,
) -> None:
    budget = Budget(**kwargs)  # type: ignore[arg-type]
    r = budget.reserve(1, 0.0)
    with pytest.raises(BudgetExceeded) as info:
        budget.settle(r, *use)
    error = info.value
    assert (error.limit, error.spent, error.cap) == (limit, pytest.approx(spent), cap)
    assert words in str(error)
    # The crossing call was paid for: it is counted.
    assert budget.spent_tokens == use[0] and budget.spent_usd == pytest.approx(use[1])
    assert budget.exhausted == limit
    with pytest.raises(BudgetExceeded):
        budget.reserve(0, None)


def test_unpriced_calls_are_counted_not_priced() -> None:
    budget = Budget(max_cost_usd=1.0)
    budget.settle(budget.reserve(10, None), 20, None)
    assert budget.unpriced_calls == 1 and budget.spent_usd == 0.0 and budget.spent_tokens == 20


def test_concurrent_reservations_never_exceed_the_cap() -> None:
    """64 threads race for a budget with room for 50 reservations of 10 tokens."""
    budget = Budget(max_tokens=500)
    barrier = threading.Barrier(64)
    granted: list[Reservation] = []
    refused: list[BudgetExceeded] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            r = budget.reserve(10, None)
        except BudgetExceeded as exc:
            with lock:
                refused.append(exc)
            return
        with lock:
            granted.append(r)

    threads = [threading.Thread(target=worker) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(granted) == 50 and len(refused) == 14
    assert budget._reserved_tokens == 500


def test_concurrent_settle_and_release_keep_exact_totals() -> None:
    budget = Budget(max_tokens=10**9, max_cost_usd=10**6)
    rounds, n_threads = 500, 8

    def worker(i: int) -> None:
        for _ in range(rounds):
            r = budget.reserve(3, 0.001)
            if i % 2:
                budget.release(r)
            else:
                budget.settle(r, 5, 0.002)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    settled = rounds * (n_threads // 2)
    assert budget.spent_tokens == 5 * settled
    assert budget.spent_usd == pytest.approx(0.002 * settled)
    assert budget._reserved_tokens == 0
    assert budget._reserved_usd == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("caps", "spent", "reserved", "fraction"),
    [
        ({"max_cost_usd": 2.0}, 0.5, 0.5, 0.5),  # held reservations count
        ({"max_tokens": 1000}, 0.0, 0.0, 0.0),
        ({"max_cost_usd": 1.0, "max_tokens": 10}, 0.25, 0.0, 0.25),  # USD first
        ({}, 3.0, 0.0, None),  # no cap: no fraction
    ],
)
async def test_fraction_used(
    caps: dict[str, float], spent: float, reserved: float, fraction: float | None
) -> None:
    budget = Budget(**caps)  # type: ignore[arg-type]
    if reserved:
        await budget.areserve(0, reserved)
    if spent:
        held = await budget.areserve(0, spent)
        await budget.asettle(held, 0, spent)
    assert budget.fraction_used() == fraction
    assert await budget.afraction_used() == fraction
    assert await budget.aspent_usd() == pytest.approx(spent + reserved)
