"""A gate of the call limiter on a shared concurrency limit: leased slots, pooled.

Leasing a slot of a global concurrency limit (:mod:`eightflow.runtime.global_limits`) is a
round trip to the Prefect server; a batch makes thousands of calls. :class:`PooledSlots`
keeps the slots it leased in this process between calls, so the bound holds across
workers while the server sees a few round trips per slot, not two per call. Used by a
sharded batch's calls in flight (``eightflow.batch.shared_bounds``) and a model's
(``eightflow.runtime.model_limits``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from eightflow.runtime.global_limits import LimitStore


class PooledSlots:
    """A gate of the call limiter: a leased slot of a shared concurrency limit per call.

    Slots are kept in this process between calls rather than leased per call: a call that
    ends hands its slot to the next call here, and only a slot idle for ``IDLE_S``, or
    held for ``HOLD_S`` (so other shards get their turn and no lease nears its expiry), goes
    back to the server (in the background). Calls in flight never exceed the slots leased,
    so the bound holds; the server sees two round trips per slot every ``HOLD_S`` instead of
    two per call.
    One waiter per process polls the server at a time.

    Leases are as short as Prefect allows (``LEASE_S``) so that a killed worker's slots come
    back within about a minute (plus the server's lease sweep, every 15 s) rather than
    starving every other shard; a slot still held ``RENEW_AFTER_S`` after its lease was last
    set (a call that outlasts its turn) is renewed in the background.
    """

    HOLD_S = 30.0
    LEASE_S = 60.0  # a dead worker's slot comes back after this long (Prefect's minimum)
    RENEW_AFTER_S = 35.0  # past HOLD_S: a slot handed on normally is never renewed
    RENEW_EVERY_S = 5.0
    IDLE_S = 0.05

    def __init__(self, name: str, store: LimitStore) -> None:
        self.name = name
        self.store = store
        self._loop: asyncio.AbstractEventLoop | None = None
        self._free: list[tuple[Any, float, float]] = []  # (lease, leased at, idle since)
        self._full = False  # the last lease was refused: poll one at a time
        self._turn = asyncio.Lock()
        self._returned = asyncio.Event()
        self.leases = 0  # round trips that leased a slot (for reports and tests)
        self._sweeping: asyncio.Future[None] | None = None
        self._releasing: set[asyncio.Future[None]] = set()
        self._elsewhere: set[asyncio.Future[None]] = set()  # releases on another loop
        # id(lease) -> (lease, lease set at, the loop that leased it)
        self._renewed: dict[int, tuple[Any, float, asyncio.AbstractEventLoop]] = {}
        # One renewer per event loop, renewing only that loop's leases: two loops in one
        # process (a run inside another's thread) must not each renew every lease.
        self._renewers: dict[asyncio.AbstractEventLoop, asyncio.Future[None]] = {}
        self.renewals = 0  # leases renewed (for tests)

    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (a new run): new primitives
            stale = [lease for lease, _, _ in self._free]
            self._loop, self._free, self._full = loop, [], False
            self._turn, self._returned = asyncio.Lock(), asyncio.Event()
            # Releases in flight belong to the old loop (as its renewer and its leases in
            # ``_renewed`` do): this loop starts its own.
            self._releasing = set()
            for lease in stale:  # idle slots of the old loop go back rather than run out
                self._release_soon(lease)

    async def enter(self, tokens: int) -> Any:
        self._bind()
        delay = 0.02
        while True:
            if self._free:
                lease, leased_at, _ = self._free.pop()
                return lease, leased_at
            if not self._full:
                lease = await self._lease()
            else:  # the batch was full a moment ago: one poller at a time
                async with self._turn:
                    lease = None if self._free else await self._lease()
            self._full = lease is None
            if lease is not None:
                return lease, time.monotonic()
            if self._free:
                continue
            self._returned.clear()  # the batch is full: a slot coming back here, or a poll
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._returned.wait(), delay)
            delay = min(delay * 2, 0.25)

    async def _lease(self) -> Any:
        lease = await self.store.lease([self.name], 1, self.LEASE_S, wait=False)
        if lease is not None:
            self.leases += 1
            self._renewed[id(lease)] = (lease, time.monotonic(), asyncio.get_running_loop())
            self._start_renewer()
        return lease

    def _start_renewer(self) -> None:
        loop = asyncio.get_running_loop()
        renewer = self._renewers.get(loop)
        if renewer is None or renewer.done():
            for closed in [other for other in list(self._renewers) if other.is_closed()]:
                self._renewers.pop(closed, None)
            self._renewers[loop] = asyncio.ensure_future(self._renew_held())

    def _held_here(self) -> list[tuple[int, float]]:
        """(key, lease set at) of the leases the running loop holds. (A snapshot: a loop in
        another thread may add or drop one meanwhile.)"""
        loop = asyncio.get_running_loop()
        return [(key, set_at) for key, (_, set_at, owner) in list(self._renewed.items())
                if owner is loop]  # fmt: skip

    async def _renew_held(self) -> None:
        """While this loop holds slots, renew its leases about to run out (all at once: each
        renewal is a round trip, and the margin is ``LEASE_S - RENEW_AFTER_S``)."""
        while self._held_here():
            await asyncio.sleep(self.RENEW_EVERY_S)
            now = time.monotonic()
            for key, (lease, _, loop) in list(self._renewed.items()):
                if loop.is_closed():  # its run ended without giving it back: let it go
                    self._renewed.pop(key, None)
                    self._release_soon(lease)
            due = [key for key, set_at in self._held_here() if now - set_at >= self.RENEW_AFTER_S]
            await asyncio.gather(*(self._renew(key) for key in due), return_exceptions=True)

    async def _renew(self, key: int) -> None:
        held = self._renewed.get(key)
        if held is None:
            return
        try:  # one slow renewal must not hold back the others past their margin
            renewed = await asyncio.wait_for(
                self.store.renew(held[0], self.LEASE_S), self.RENEW_EVERY_S
            )
        except TimeoutError:
            renewed = None
        if key not in self._renewed:
            return  # given back while the renewal was on its way: nothing to keep alive
        if renewed:
            self.renewals += 1
            self._renewed[key] = (held[0], time.monotonic(), held[2])
        elif renewed is False:  # it ran out already (its slot went back)
            self._renewed.pop(key, None)
        # None: the server could not be asked; the next tick asks again

    async def exit(self, held: Any, used: int | None) -> None:
        lease, leased_at = held
        now = time.monotonic()
        # Back to the batch, off this call: when its turn is over, or when the gate serves
        # another loop now (its free slots are that loop's, renewed by that loop's renewer:
        # this loop's lease goes back rather than change hands).
        if now - leased_at > self.HOLD_S or self._loop is not asyncio.get_running_loop():
            self._release_soon(lease)
            return
        self._free.append((lease, leased_at, now))
        self._returned.set()
        asyncio.get_running_loop().call_later(self.IDLE_S * 2, self._sweep_soon)

    def _release_soon(self, lease: Any) -> None:
        """Give ``lease`` back in the background, on the gate's loop: its run's last sweep
        waits for it. Asked from another loop (a run in another thread), the release is
        handed to the gate's loop; only when that loop is gone does it run here, in a set of
        its own (a task of one loop cannot be awaited from another)."""
        running = asyncio.get_running_loop()
        gates = self._loop
        if gates is not None and gates is not running and not gates.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile: released here
                gates.call_soon_threadsafe(self._release_soon, lease)
                return
        task = asyncio.ensure_future(self._release(lease))
        tasks = self._releasing if gates is running else self._elsewhere
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def _sweep_soon(self) -> None:
        if self._free and (self._sweeping is None or self._sweeping.done()):
            self._sweeping = asyncio.ensure_future(self.sweep(self.IDLE_S))

    async def sweep(self, idle_s: float = 0.0) -> None:
        """Give back the slots idle for ``idle_s`` (all of them with 0: the run's end)."""
        self._bind()
        now = time.monotonic()
        idle = [slot for slot in self._free if now - slot[2] >= idle_s]
        self._free = [slot for slot in self._free if slot not in idle]
        pending = [*self._releasing] if not idle_s else []
        await asyncio.gather(*(self._release(lease) for lease, _, _ in idle), *pending)
        renewer = self._renewers.get(asyncio.get_running_loop())
        if renewer is not None and not self._held_here():
            renewer.cancel()  # nothing held: no timer left behind on the loop
            self._renewers.pop(asyncio.get_running_loop(), None)  # a later lease starts another

    async def _release(self, lease: Any) -> None:
        self._renewed.pop(id(lease), None)
        with contextlib.suppress(Exception):  # else its lease runs out by itself
            await self.store.release(lease)
