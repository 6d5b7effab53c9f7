"""Pooled slots of a shared limit, on the in-process store: the bound holds, slots are handed
from call to call while their turn lasts, and every slot goes back at the end."""

from __future__ import annotations

import asyncio
import threading

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


class RenewScripted(LocalLimits):
    """The in-process store, answering renewals from a script (True: renewed, False: gone,
    None: the server could not be asked), each after ``delay`` seconds."""

    def __init__(self, answers: list[bool | None], delay: float = 0.0) -> None:
        super().__init__()
        self.answers, self.delay = answers, delay
        self.renewed: list[float] = []  # the duration asked for, per renewal
        self.leases: list[object] = []  # the lease, per renewal
        self.loops: list[asyncio.AbstractEventLoop] = []  # the loop that renewed, per renewal
        self.answered = 0

    async def renew(self, lease: object, seconds: float) -> bool | None:
        self.renewed.append(seconds)
        self.leases.append(lease)
        self.loops.append(asyncio.get_running_loop())
        answer = self.answers[min(len(self.renewed), len(self.answers)) - 1]
        await asyncio.sleep(self.delay)
        self.answered += 1
        return answer

    def asked(self, lease: object) -> int:
        """Renewals asked for this very lease (in-process leases are equal tuples)."""
        return sum(each is lease for each in self.leases)

    def renewed_on(self, lease: object) -> set[asyncio.AbstractEventLoop]:
        """The event loops that renewed this very lease."""
        return {loop for each, loop in zip(self.leases, self.loops, strict=True) if each is lease}


async def _until(condition: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


def _gate(store: LocalLimits) -> PooledSlots:
    gate = PooledSlots("calls", store)
    gate.RENEW_AFTER_S, gate.RENEW_EVERY_S = 0.1, 0.04
    return gate


@pytest.mark.parametrize(
    ("answers", "asked", "renewals"),
    [
        ([True], 3, 3),  # a call outlasting its lease keeps it: renewed each time it nears its end
        ([None, None, True], 3, 1),  # the server busy: asked again at the next tick, not dropped
        ([False], 1, 0),  # it ran out already: asked once, then let go
    ],
    ids=["renewed", "busy server", "gone"],
)
async def test_a_slot_held_past_its_lease_is_renewed_until_given_back(
    answers: list[bool | None], asked: int, renewals: int
) -> None:
    store = RenewScripted(answers)
    await store.ensure("calls", LIMIT)
    gate = _gate(store)
    held = await gate.enter(1)
    await _until(lambda: len(store.renewed) >= asked)
    if answers == [False]:
        await asyncio.sleep(0.3)  # a gone lease is not asked again
    await gate.exit(held, None)
    await gate.sweep()
    assert gate.renewals >= renewals
    if answers == [False]:
        assert len(store.renewed) == 1
    else:  # one more may have been on its way when the call ended
        assert asked <= len(store.renewed) <= store.answered + 1
    assert all(seconds == gate.LEASE_S for seconds in store.renewed)
    state = await store.read("calls")
    assert state is not None and state.active_slots == 0
    count = len(store.renewed)
    await asyncio.sleep(0.15)
    assert len(store.renewed) == count  # nothing held: no renewals after the run's end


async def test_a_slot_given_back_during_its_renewal_stays_given_back() -> None:
    store = RenewScripted([True], delay=0.2)  # renewals are slow to come back
    await store.ensure("calls", LIMIT)
    gate = _gate(store)
    kept = await gate.enter(1)  # held throughout: the renewer keeps running
    given_back = await gate.enter(1)
    await _until(lambda: len(store.leases) >= 2)  # both renewals on their way
    gate.HOLD_S = -1.0  # its turn is over: exit gives it back at once
    await gate.exit(given_back, None)
    await asyncio.gather(*gate._releasing)
    await _until(lambda: store.asked(kept[0]) >= 2)  # the renewer went round again
    assert store.asked(given_back[0]) == 1  # never renewed after it was given back
    assert id(given_back[0]) not in gate._renewed
    await gate.exit(kept, None)
    await gate.sweep()


async def test_a_lease_taken_after_a_mid_run_sweep_is_renewed_too() -> None:
    store = RenewScripted([True])
    await store.ensure("calls", LIMIT)
    gate = _gate(store)
    first = await gate.enter(1)
    await gate.exit(first, None)
    await gate.sweep(0)  # every slot back: the renewer is cancelled
    second = await gate.enter(1)  # at once, before the cancelled task has run
    await _until(lambda: store.renewed)
    await gate.exit(second, None)
    await gate.sweep()


def test_a_new_event_loop_gives_back_the_idle_slots_of_the_last() -> None:
    store = LocalLimits()
    gate = PooledSlots("calls", store)

    async def one_call(sweep: bool) -> None:
        await store.ensure("calls", LIMIT)
        held = await gate.enter(1)
        await gate.exit(held, None)  # idle in this process, not given back yet
        if sweep:
            await asyncio.sleep(0.01)
            await gate.sweep()

    asyncio.run(one_call(sweep=False))  # a run ends with an idle slot left in the gate
    asyncio.run(one_call(sweep=True))  # the next run's loop gives it back
    state = asyncio.run(store.read("calls"))
    assert state is not None and state.active_slots == 0


def test_a_dead_holders_slots_come_back_within_about_a_minute() -> None:
    """Leases as short as Prefect allows: a killed shard's slots must not starve the others
    for longer than a shard's stall window is worth (they once were leased for 5 min)."""
    assert PooledSlots.LEASE_S == 60.0
    assert PooledSlots.HOLD_S < PooledSlots.RENEW_AFTER_S < PooledSlots.LEASE_S


def test_a_lease_whose_run_ended_holding_it_is_let_go_not_renewed_for_ever() -> None:
    store = RenewScripted([True])
    gate = _gate(store)

    async def leak() -> object:
        await store.ensure("calls", LIMIT)
        lease, _ = await gate.enter(1)  # its run ends without exit: a caller's bug, a crash
        return lease

    leaked = asyncio.run(leak())

    async def next_run() -> None:
        held = await gate.enter(1)
        await _until(lambda: store.asked(held[0]) >= 2)  # the renewer went round twice
        assert id(leaked) not in gate._renewed
        assert (await store.read("calls")).active_slots == 1  # type: ignore[union-attr]
        await gate.exit(held, None)
        await gate.sweep()

    asyncio.run(next_run())
    assert store.asked(leaked) <= 1  # at most the one on its way when its run ended


async def test_two_loops_in_one_process_each_renew_only_their_own_leases() -> None:
    """A run whose loop lives in another thread of the same process (a workflow run from a
    synchronous step): each lease is renewed by the renewer of the loop that took it, once
    per tick, not by both loops' renewers."""
    store = RenewScripted([True])
    await store.ensure("calls", LIMIT)
    gate = _gate(store)
    here = await gate.enter(1)
    main_loop = asyncio.get_running_loop()

    def other_run() -> tuple[object, asyncio.AbstractEventLoop]:
        async def hold() -> tuple[object, asyncio.AbstractEventLoop]:
            held = await gate.enter(1)
            await _until(lambda: store.asked(held[0]) >= 3)
            await gate.exit(held, None)
            await gate.sweep()
            return held[0], asyncio.get_running_loop()

        return asyncio.run(hold())

    there, other_loop = await asyncio.to_thread(other_run)
    await _until(lambda: store.asked(here[0]) >= 3)
    await gate.exit(here, None)
    await gate.sweep()
    assert store.renewed_on(here[0]) == {main_loop}
    assert store.renewed_on(there) == {other_loop}


@pytest.mark.parametrize("turn_over", [False, True], ids=["in its turn", "its turn over"])
async def test_a_slot_given_back_on_a_loop_the_gate_no_longer_serves_goes_back(
    turn_over: bool,
) -> None:
    """A call of one loop ends after another loop's call bound the gate: its slot goes back
    to the server, not into the other loop's free slots (where no renewer of its own would
    keep it, and the closed loop's clean-up would release it while in use); the release is
    handed to the gate's loop, whose last sweep waits for it without mixing loops."""
    store = RenewScripted([True])
    await store.ensure("calls", LIMIT)
    gate = _gate(store)
    if turn_over:
        gate.HOLD_S = -1.0  # every exit gives its slot back in the background
    taken, bound_elsewhere = threading.Event(), threading.Event()

    def other_run() -> None:
        async def call() -> None:
            held = await gate.enter(1)
            taken.set()
            await asyncio.to_thread(bound_elsewhere.wait, 10)
            await gate.exit(held, None)  # the gate now serves the main loop

        asyncio.run(call())

    thread = asyncio.create_task(asyncio.to_thread(other_run))
    assert await asyncio.to_thread(taken.wait, 10)
    here = await gate.enter(1)  # binds the gate to this loop
    bound_elsewhere.set()
    await thread
    assert gate._free == [] and gate._elsewhere == set()  # no slot changed hands
    for _ in range(100):  # its release was handed to this loop: on its way
        if (await store.read("calls")).active_slots == 1:  # type: ignore[union-attr]
            break
        await asyncio.sleep(0.01)
    assert (await store.read("calls")).active_slots == 1  # type: ignore[union-attr]
    await gate.exit(here, None)
    await gate.sweep()
    assert (await store.read("calls")).active_slots == 0  # type: ignore[union-attr]
