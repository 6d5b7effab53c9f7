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
