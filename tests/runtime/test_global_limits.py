"""Shared limits: Prefect's global concurrency limits and their in-process twin agree."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from eightflow.runtime import global_limits
from eightflow.runtime.global_limits import LimitStore, LocalLimits, PrefectLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(global_limits.time, "monotonic", clock)
    return clock


async def _fill_until_refused(store: LimitStore, name: str, slots: int) -> int:
    taken = 0
    while await store.take([name], slots, wait=False):
        taken += 1
        assert taken < 100, "a limit that never refuses"
    return taken


async def _concurrency_contract(store: LimitStore, name: str) -> None:
    await store.ensure(name, 5)
    assert await _fill_until_refused(store, name, 2) == 2  # 4 of 5 taken; 2 more do not fit
    assert await store.take([name], 1, wait=False)  # 1 still does
    await store.give([name], 3)
    state = await store.read(name)
    assert state is not None and (state.limit, state.active_slots) == (5, 2)
    assert not await store.take([name], 6, wait=False)  # more than the limit: never granted
    await store.fill(name)
    assert not await store.take([name], 1, wait=False)
    await store.give([name], 5)
    lease = await store.lease([name], 2, 60)
    assert lease is not None
    assert (await store.read(name)).active_slots == 2  # type: ignore[union-attr]
    assert await store.renew(lease, 60)  # a live holder keeps its lease
    assert (await store.read(name)).active_slots == 2  # type: ignore[union-attr]
    await store.release(lease)
    assert (await store.read(name)).active_slots == 0  # type: ignore[union-attr]
    await store.delete(name)
    assert await store.read(name) is None
    await store.delete(name)  # deleting twice is harmless


async def test_local_limits_keep_the_concurrency_contract() -> None:
    await _concurrency_contract(LocalLimits(), "eightflow-test-local")


@pytest.mark.parametrize(
    ("elapsed_s", "decay", "free_after"),
    [
        (0.0, 10.0, 0),  # nothing has decayed yet
        (0.5, 10.0, 5),  # half a second at 10 slots a second
        (5.0, 10.0, 10),  # everything decayed, never below zero
        (5.0, 0.0, 0),  # a concurrency limit does not decay
    ],
)
async def test_local_rate_limits_decay(
    clock: Clock, elapsed_s: float, decay: float, free_after: int
) -> None:
    store = LocalLimits()
    await store.ensure("rpm", 10, decay)
    assert await store.take(["rpm"], 10, mode="rate_limit", wait=False)
    clock.now += elapsed_s
    assert (await store.read("rpm")).active_slots == 10 - free_after  # type: ignore[union-attr]


async def test_a_waiting_take_is_granted_once_slots_come_back() -> None:
    store = LocalLimits()
    await store.ensure("one", 1)
    assert await store.take(["one"], 1)
    waiter = asyncio.ensure_future(store.take(["one"], 1))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await store.give(["one"], 1)
    assert await asyncio.wait_for(waiter, 5)


async def test_a_take_on_several_limits_is_all_or_none() -> None:
    store = LocalLimits()
    await store.ensure("a", 3)
    await store.ensure("b", 1)
    assert await store.take(["a", "b"], 1, wait=False)
    assert not await store.take(["a", "b"], 1, wait=False)
    assert (await store.read("a")).active_slots == 1  # type: ignore[union-attr]


def test_the_default_store_is_this_processs_without_a_prefect_api() -> None:
    assert isinstance(global_limits.default_store(), LocalLimits)


@pytest.mark.prefect
async def test_prefect_limits_keep_the_same_contract() -> None:
    store = PrefectLimits()
    name = f"eightflow-test-{uuid.uuid4().hex[:8]}"
    await _concurrency_contract(store, name)
    assert isinstance(global_limits.default_store(), PrefectLimits)


@pytest.mark.prefect
async def test_a_lease_given_back_cannot_be_renewed() -> None:
    store = PrefectLimits()
    name = f"eightflow-test-{uuid.uuid4().hex[:8]}"
    await store.ensure(name, 2)
    try:
        lease = await store.lease([name], 1, 60)
        await store.release(lease)
        assert await store.renew(lease, 60) is False  # gone (410): the renewer lets it go
        assert (await store.read(name)).active_slots == 0  # type: ignore[union-attr]
    finally:
        await store.delete(name)


@pytest.mark.prefect
async def test_prefect_limits_are_what_the_concurrency_page_lists() -> None:
    from prefect.client.orchestration import get_client

    store = PrefectLimits()
    name = f"eightflow-test-{uuid.uuid4().hex[:8]}"
    await store.ensure(name, 7, decay=2.0)
    try:
        async with get_client() as client:
            listed = await client.read_global_concurrency_limits(limit=200)
        found = {limit.name: limit for limit in listed}
        assert found[name].limit == 7 and found[name].slot_decay_per_second == 2.0
        assert await store.take([name], 7, mode="rate_limit", wait=False)
        assert not await store.take([name], 1, mode="rate_limit", wait=False)
    finally:
        await store.delete(name)
