"""Batch-wide bounds across processes: shares that sum to the whole, one shared budget."""

from __future__ import annotations

import asyncio
import multiprocessing

import pytest

from eightflow.batch.models import BatchOptions, BatchSummary
from eightflow.batch.shared_bounds import (
    BatchBudget,
    BatchLimits,
    BudgetCell,
    SharedBudget,
    batch_wide,
    release_shared,
    split,
    split_rpm,
)
from eightflow.batch.workers import default_workers
from eightflow.errors import BudgetExceeded
from eightflow.runtime.budget import Budget
from eightflow.runtime.global_limits import LocalLimits, PrefectLimits
from eightflow.runtime.limiter import CallLimiter


@pytest.mark.parametrize(
    ("total", "parts", "expected"),
    [
        (32, 2, [16, 16]),
        (33, 2, [17, 16]),
        (8, 3, [3, 3, 2]),
        (3, 4, [1, 1, 1]),  # never a zero share: fewer processes instead
        (1, 2, [1]),
    ],
)
def test_split_shares_sum_to_the_whole(total: int, parts: int, expected: list[int]) -> None:
    assert split(total, parts) == expected
    assert sum(split(total, parts)) == total


@pytest.mark.parametrize(("rpm", "parts"), [(600.0, 2), (90.0, 3), (None, 2)])
def test_split_rpm_sums_to_the_whole(rpm: float | None, parts: int) -> None:
    shares = split_rpm(rpm, parts)
    assert len(shares) == parts
    if rpm is None:
        assert shares == [None] * parts
    else:
        assert sum(s or 0.0 for s in shares) == pytest.approx(rpm)


@pytest.mark.parametrize(
    ("concurrency", "documents", "cores", "expected"),
    [
        (32, 1000, 2, 2),  # wide and large: one process per core
        (32, 1000, 1, 1),  # one core: one process
        (32, 150, 2, 1),  # a handful of documents: not worth a second process
        (8, 1000, 2, 2),  # latency-bound, yet two event loops still turn calls faster
        (4, 1000, 2, 1),  # too few calls in flight to share
        (64, 10_000, 16, 4),  # capped
    ],
)
def test_default_workers(concurrency: int, documents: int, cores: int, expected: int) -> None:
    assert default_workers(concurrency, documents, cores) == expected


def _reserve_until_refused(cell: BudgetCell, counts: object, index: int) -> None:
    budget = SharedBudget(cell, max_tokens=200, max_cost_usd=None)
    taken = 0
    while True:
        try:
            budget.reserve(1, None)
        except BudgetExceeded:
            break
        taken += 1
    counts[index] = taken  # type: ignore[index]


@pytest.mark.e2e
def test_shared_budget_holds_across_processes() -> None:
    """Four processes racing for 200 one-token reservations get exactly 200 between them."""
    ctx = multiprocessing.get_context("spawn")
    cell = BudgetCell(ctx)
    counts = ctx.Array("i", [0] * 4)
    procs = [ctx.Process(target=_reserve_until_refused, args=(cell, counts, i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert sum(counts) == 200
    seen = SharedBudget(cell, max_tokens=200, max_cost_usd=None)
    assert seen.exhausted == "max_tokens"  # the parent sees what the workers did
    with pytest.raises(BudgetExceeded):
        seen.reserve(1, None)


def test_shared_budget_settles_into_shared_spend() -> None:
    ctx = multiprocessing.get_context("spawn")
    cell = BudgetCell(ctx)
    a = SharedBudget(cell, max_tokens=None, max_cost_usd=1.0)
    b = SharedBudget(cell, max_tokens=None, max_cost_usd=1.0)
    held = a.reserve(10, 0.25)
    assert b._reserved_usd == pytest.approx(0.25)
    a.settle(held, 12, 0.3)
    assert b.spent_usd == pytest.approx(0.3) and b.spent_tokens == 12
    with pytest.raises(BudgetExceeded):
        b.reserve(10, 0.8)  # 0.3 spent + 0.8 > 1.0
    assert a.exhausted == "max_cost_usd"


class _Cache:
    def __init__(self, stored: set[str]) -> None:
        self.stored = stored

    def get_outcome(self, key: str) -> dict[str, str] | None:
        return {"id": key} if key.split(":")[0] in self.stored else None


@pytest.mark.parametrize(("cached", "expected"), [(8, True), (5, True), (4, False), (0, False)])
def test_a_rerun_served_from_cache_stays_in_one_process(
    tmp_path: object, cached: int, expected: bool
) -> None:
    """The default worker count drops to one when most sampled documents are cached."""
    from pathlib import Path
    from types import SimpleNamespace

    from eightflow.batch.cached import file_sha256
    from eightflow.batch.runner import BatchRunner

    root = Path(str(tmp_path))
    paths = []
    for i in range(10):
        path = root / f"d{i}.txt"
        path.write_text(f"document {i}")
        paths.append(path)
    stored = {file_sha256(p) or "" for p in paths[:cached]}
    runner = BatchRunner.__new__(BatchRunner)
    runner.options = BatchOptions()
    runner.paths = iter(paths)
    runner.cache = _Cache(stored)  # type: ignore[assignment]
    runner.summary = BatchSummary(workflow="w", version="v")
    runner.model = "m"
    runner.workflow = SimpleNamespace(api_base=None)  # type: ignore[assignment]
    assert runner._mostly_cached() is expected
    assert list(runner.paths) == paths  # the sample is not lost to the batch


@pytest.mark.parametrize(
    ("workers", "concurrency", "documents", "expected"),
    [
        (None, 32, 1000, 2),  # unset: one per core for a large, wide batch
        (0, 32, 1000, 2),  # 0 says the same
        (1, 32, 1000, 1),  # asked for one
        (None, 8, 1000, 2),  # latency-bound: two event loops still turn calls faster
        (None, 4, 1000, 1),  # too few calls in flight to share
        (None, 32, 50, 1),  # a handful of documents
        (3, 2, 1000, 2),  # never more processes than calls in flight
    ],
)
def test_how_many_processes_a_batch_uses(
    monkeypatch: pytest.MonkeyPatch,
    workers: int | None,
    concurrency: int,
    documents: int,
    expected: int,
) -> None:
    from types import SimpleNamespace

    import eightflow.batch.workers as workers_module
    from eightflow.batch.runner import BatchRunner

    monkeypatch.setattr(workers_module.os, "cpu_count", lambda: 2)
    runner = BatchRunner.__new__(BatchRunner)
    runner.options = BatchOptions(workers=workers, concurrency=concurrency)
    runner.paths = iter(())
    runner.cache = _Cache(set())  # type: ignore[assignment]
    runner.summary = BatchSummary(workflow="document_analysis", version="v", expected=documents)
    runner.model = "m"
    runner.workflow = SimpleNamespace(api_base=None)  # type: ignore[assignment]
    pool = runner._worker_pool()
    assert runner.workers == expected
    assert (pool is None) == (expected == 1)


# -- across the flow runs of a sharded batch ----------------------------------------------


def _shards(store: object, cap: float, shards: int = 2) -> list[BatchBudget]:
    return [
        BatchBudget(Budget(max_cost_usd=cap), BatchLimits("t", 4, cap).spend, store)  # type: ignore[arg-type]
        for _ in range(shards)
    ]


async def test_the_cap_holds_for_the_whole_batch_not_each_shard() -> None:
    """Two shards, each with the $1 cap as its local view: together they stop at $1."""
    store = LocalLimits()
    await BatchLimits("t", 4, 1.0).create(store)
    first, second = _shards(store, 1.0)
    spent = 0.0
    for budget in [first, second] * 10:
        try:
            reservation = await budget.areserve(10, 0.1)
        except BudgetExceeded:
            break
        spent += 0.15
        try:
            await budget.asettle(reservation, 20, 0.15)  # each costs more than its estimate
        except BudgetExceeded:
            break  # the call that crossed the cap counts: it was paid for
    with pytest.raises(BudgetExceeded, match="batch budget exhausted"):
        await second.areserve(10, 0.001)
    with pytest.raises(BudgetExceeded):
        await first.areserve(10, 0.001)
    assert 1.0 <= spent <= 1.0 + 0.15  # past the cap by at most the one call in flight
    assert first.spent_usd + second.spent_usd == pytest.approx(spent)
    assert await first.afraction_used() == pytest.approx(1.0)  # the crossing call filled it


@pytest.mark.parametrize(
    ("estimate", "actual", "held_after"),
    [
        (0.10, 0.04, 0.04),  # settled lower: the rest goes back to the batch
        (0.10, 0.10, 0.10),
        (0.10, 0.25, 0.25),  # settled higher, still under the cap: taken on top
        (0.10, None, 0.0),  # unpriced answer: nothing counted in USD
    ],
)
async def test_a_reservation_settles_to_the_real_cost(
    estimate: float, actual: float | None, held_after: float
) -> None:
    store = LocalLimits()
    await BatchLimits("t", 4, 5.0).create(store)
    (budget,) = _shards(store, 5.0, shards=1)
    reservation = await budget.areserve(10, estimate)
    assert await budget.aspent_usd() >= estimate  # drawn from the batch: a chunk, at least
    await budget.asettle(reservation, 20, actual)
    await budget.aclose()  # the run's end: unspent credit goes back
    assert await budget.aspent_usd() == pytest.approx(held_after)


async def test_a_released_reservation_gives_the_batch_its_room_back() -> None:
    store = LocalLimits()
    await BatchLimits("t", 4, 1.0).create(store)
    (budget,) = _shards(store, 1.0, shards=1)
    reservation = await budget.areserve(10, 0.6)
    await budget.arelease(reservation)
    await budget.aclose()
    assert await budget.aspent_usd() == 0.0 and budget.in_flight == 0
    await budget.areserve(10, 0.6)  # fits again


async def test_calls_in_flight_hold_for_the_whole_batch() -> None:
    """Two shards with a local concurrency of 4 each: never more than 4 calls at once."""
    store = LocalLimits()
    limits = BatchLimits("t", 4)
    await limits.create(store)
    open_now = peak = 0

    async def call(limiter: CallLimiter) -> None:
        nonlocal open_now, peak
        async with limiter.slot():
            open_now += 1
            peak = max(peak, open_now)
            await asyncio.sleep(0.005)
            open_now -= 1

    shards = [batch_wide(Budget(), CallLimiter(4), "t", store)[1] for _ in range(2)]
    await asyncio.gather(*(call(shards[i % 2]) for i in range(24)))
    assert peak == 4
    gates = [limiter.gates[0] for limiter in shards]
    assert sum(gate.leases for gate in gates) < 24  # slots are handed on, not leased per call
    for gate in gates:
        await gate.sweep()  # the run's end: every slot goes back
    assert (await store.read(limits.inflight)).active_slots == 0  # type: ignore[union-attr]


def test_a_batch_of_its_own_keeps_its_bounds_as_they_are() -> None:
    budget, limiter = Budget(max_cost_usd=1.0), CallLimiter(4)
    assert batch_wide(budget, limiter, None) == (budget, limiter) and limiter.gates == []
    wrapped, _ = batch_wide(budget, limiter, "k", LocalLimits())
    assert isinstance(wrapped, BatchBudget) and wrapped.max_cost_usd == 1.0
    assert len(limiter.gates) == 1
    assert batch_wide(Budget(), CallLimiter(4), "k", LocalLimits())[0].__class__ is Budget


@pytest.mark.parametrize("key", ["UPPER", "a" * 41, "-lead", "x y", "../etc"])
def test_a_batch_key_is_a_plain_name(key: str) -> None:
    with pytest.raises(ValueError, match="batch_key"):
        BatchOptions(batch_key=key)


@pytest.mark.prefect
async def test_the_batch_limits_live_on_the_prefect_server() -> None:
    import uuid

    store = PrefectLimits()
    limits = BatchLimits(uuid.uuid4().hex[:8], 4, 0.5)
    await limits.create(store)
    try:
        state = await store.read(limits.spend)
        assert state is not None and state.limit == 500_000  # micro-dollars
        first, second, third = (
            BatchBudget(Budget(max_cost_usd=0.5), limits.spend, store) for _ in range(3)
        )
        held = await first.areserve(10, 0.3)
        with pytest.raises(BudgetExceeded):
            await second.areserve(10, 0.3)  # 0.6 would pass the batch's 0.5
        assert second.exhausted == "max_cost_usd"  # as in one process: that shard stops
        await first.asettle(held, 20, 0.1)
        await third.areserve(10, 0.3)  # 0.1 + 0.3 fits: first gave its spare credit back
        # settled 0.1, held 0.3, and first's credit in hand (a chunk: 2% of the cap)
        assert await third.afraction_used() == pytest.approx(0.82)
        limiter = batch_wide(Budget(), CallLimiter(2), limits.key, store)[1]
        async with limiter.slot():
            assert (await store.read(limits.inflight)).active_slots == 1  # type: ignore[union-attr]
        await release_shared(third, limiter)  # the run's end: slot and spare credit go back
        assert (await store.read(limits.inflight)).active_slots == 0  # type: ignore[union-attr]
    finally:
        await limits.delete(store)
    assert await store.read(limits.spend) is None and await store.read(limits.inflight) is None
