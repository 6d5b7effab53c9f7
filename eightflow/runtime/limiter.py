"""Bounded model-call concurrency and an optional requests-per-minute limit.

Our own limiter first, rather than a Prefect global concurrency limit per call: measured
here, the latter took 44 s for work that needed 4 s. One :class:`CallLimiter` is shared by
every step of a run, or every document of a batch, in one event loop.

Bounds that must hold beyond this process are *gates* the limiter passes through once it
has a local slot, so only calls about to start touch the server:

- the sharded batch's calls in flight (:class:`eightflow.batch.shared_bounds.BatchSlots`);
- the model's operator limits, rpm / tpm / in flight (:mod:`eightflow.runtime.model_limits`);
- the provider's own figures from its rate-limit headers (:mod:`eightflow.runtime.pacing`).

:meth:`CallLimiter.slot` yields a :class:`CallLease`: the caller reports the answer's token
count and headers (:meth:`CallLease.answered`) or a 429's headers (:meth:`CallLease.refused`),
and the gates settle with them.

The number of slots adapts (:mod:`eightflow.runtime.adaptive`): the gateway reports each
rate-limit answer and each success, bursts of 429s halve the slots and a run of successes
gives one back, never above ``concurrency``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from eightflow.runtime.adaptive import AdaptiveLimit, AIMDPolicy
from eightflow.runtime.model_limits import model_gate
from eightflow.runtime.pacing import pacer_for
from eightflow.settings import get_settings

log = logging.getLogger(__name__)


class CallGate(Protocol):
    """A bound beyond this process, entered once a local slot is held."""

    async def enter(self, tokens: int) -> Any: ...

    async def exit(self, held: Any, used: int | None) -> None: ...


@dataclass
class CallLease:
    """One call's slot: what it was expected to use, and what its answer said."""

    model: str | None = None
    tokens: int = 0
    used: int | None = None  # tokens in + out of the answer; None: no answer
    headers: Mapping[str, Any] | None = None

    def answered(self, tokens: int, headers: Mapping[str, Any] | None = None) -> None:
        self.used, self.headers = tokens, headers

    def refused(self, headers: Mapping[str, Any] | None = None) -> None:
        """A 429: nothing used; its headers (retry-after) still pace the next calls."""
        self.used, self.headers = 0, headers


class CallLimiter:
    """At most ``limit`` (<= ``concurrency``) calls in flight, at most ``rpm`` starts a minute."""

    def __init__(
        self,
        concurrency: int = 8,
        rpm: float | None = None,
        policy: AIMDPolicy | None = None,
        gates: list[CallGate] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.rpm = rpm
        self.gates: list[CallGate] = list(gates or [])  # bounds shared beyond this process
        self.adaptive = AdaptiveLimit(concurrency, policy or AIMDPolicy())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._rate_lock: asyncio.Lock | None = None
        self._next_start = 0.0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.rate_limited_calls = 0

    @property
    def limit(self) -> int:
        return self.adaptive.limit

    @property
    def changes(self) -> list[dict[str, Any]]:
        return self.adaptive.changes

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # asyncio primitives belong to one loop; a new loop (a new run) gets new ones.
            self._waiters = deque()
            self._rate_lock = asyncio.Lock()
            self._loop = loop
            self.in_flight = 0
        return loop

    async def _acquire(self) -> None:
        loop = self._bind()
        while self.in_flight >= self.adaptive.limit:
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # pass on the wake-up this cancelled waiter received
                raise
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self.in_flight += 1

    def _wake(self) -> None:
        free = self.adaptive.limit - self.in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1

    @asynccontextmanager
    async def slot(self, model: str | None = None, tokens: int = 0) -> AsyncIterator[CallLease]:
        """Hold one call's place: a local slot, then the provider's pacing and every gate.

        ``tokens`` is the call's estimate (prompt and answer) for token limits.
        """
        await self._acquire()
        lease = CallLease(model, tokens)
        held: list[tuple[CallGate, Any]] = []
        pacer = pacer_for(model) if model and get_settings().header_pacing else None
        paced = False
        try:
            if pacer is not None:
                await pacer.wait(tokens)
                paced = True
            gate = model_gate(model)
            for each in [*self.gates, *([gate] if gate is not None else [])]:
                held.append((each, await each.enter(tokens)))
            if self.rpm:
                await self._pace()
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            yield lease
        finally:
            for each, token in reversed(held):
                try:
                    await each.exit(token, lease.used)
                except Exception as exc:  # a shared slot comes back with its lease
                    log.warning("could not give back a shared slot: %s", exc)
            if paced and pacer is not None:
                pacer.finished(tokens, lease.headers)
            elif pacer is not None and lease.headers:
                pacer.observe(lease.headers)
            self.in_flight -= 1
            self._wake()

    def rate_limited(self) -> None:
        """A call was answered 429: maybe cut the slots (a burst), never below one."""
        self.rate_limited_calls += 1
        self.adaptive.rate_limited()

    def succeeded(self) -> None:
        """A call was answered: after enough of them, give one slot back."""
        if self.adaptive.succeeded():
            self._wake()

    async def _pace(self) -> None:
        assert self._rate_lock is not None and self.rpm
        interval = 60.0 / self.rpm
        async with self._rate_lock:
            now = time.monotonic()
            wait = self._next_start - now
            self._next_start = max(now, self._next_start) + interval
        if wait > 0:
            await asyncio.sleep(wait)
