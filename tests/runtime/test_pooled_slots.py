"""Pooled slots of a shared limit, on the in-process store: the bound holds, slots are handed
from call to call while their turn lasts, and every slot goes back at the end."""

from __future__ import annotations

import asyncio

import pytest

from eightflow.runtime.global_limits import LocalLimits
from eightflow.runtime.pooled_slots import PooledSlots

CALLS, LIMIT = 20, 2


@pytest.mark.parametrize(
    ("hold_s", "handed_on"),
    [
        (30.0, True),  # within its turn a slot serves the next call here
        (-1.0, False),  # its turn over at once: every call leases its own slot
    ],
)
async def test_the_bound_holds_and_slots_come_back(hold_s: float, handed_on: bool) -> None:
    store = LocalLimits()
    await store.ensure("calls", LIMIT)
    gate = PooledSlots("calls", store)
    gate.HOLD_S = hold_s
    in_flight, peak = 0, 0

    async def call() -> None:
        nonlocal in_flight, peak
        held = await gate.enter(1)
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        await gate.exit(held, None)

    await asyncio.gather(*(call() for _ in range(CALLS)))
    await gate.sweep()
    assert peak == LIMIT
    assert (gate.leases < CALLS) is handed_on
    state = await store.read("calls")
    assert state is not None and state.active_slots == 0


class RenewCounting(LocalLimits):
    """The in-process store, recording renewals; ``gone`` leases cannot be renewed."""

    def __init__(self, gone: bool = False) -> None:
        super().__init__()
        self.gone = gone
        self.renewed: list[float] = []

    async def renew(self, lease: object, seconds: float) -> bool:
        self.renewed.append(seconds)
        return not self.gone


@pytest.mark.parametrize(
    ("gone", "renewals"),
    [
        (False, 3),  # a call outlasting its lease keeps it: renewed each time it nears its end
        (True, 0),  # a lease that ran out already is asked once, then let go
    ],
)
async def test_a_slot_held_past_its_lease_is_renewed_until_given_back(
    gone: bool, renewals: int
) -> None:
    store = RenewCounting(gone)
    await store.ensure("calls", LIMIT)
    gate = PooledSlots("calls", store)
    gate.RENEW_AFTER_S, gate.RENEW_EVERY_S = 0.1, 0.04
    held = await gate.enter(1)
    async with asyncio.timeout(10):  # a long call: its lease nears its end again and again
        while len(store.renewed) < (1 if gone else renewals):
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.05 if not gone else 0.3)  # a gone lease is not asked again
    await gate.exit(held, None)
    await gate.sweep()
    assert gate.renewals >= renewals and len(store.renewed) == max(1, gate.renewals)
    assert all(seconds == gate.LEASE_S for seconds in store.renewed)
    state = await store.read("calls")
    assert state is not None and state.active_slots == 0
    count = len(store.renewed)
    await asyncio.sleep(0.15)
    assert len(store.renewed) == count  # nothing held: no renewals after the run's end


def test_a_dead_holders_slots_come_back_within_about_a_minute() -> None:
    """Leases as short as Prefect allows: a killed shard's slots must not starve the others
    for longer than a shard's stall window is worth (they once were leased for 5 min)."""
    assert PooledSlots.LEASE_S == 60.0
    assert PooledSlots.HOLD_S < PooledSlots.RENEW_AFTER_S < PooledSlots.LEASE_S
