"""Counters shared by every worker: Prefect global concurrency limits, or an in-process twin.

A bound that must hold across flow runs and machines (a sharded batch's calls in flight and
spend, a model's requests and tokens per minute) lives in a Prefect global concurrency limit
(GCL): a row in the server's database that every worker increments and decrements. It shows
on the UI's Concurrency page. :class:`PrefectLimits` talks to it; :class:`LocalLimits` keeps
the same semantics in one process, for runs with no Prefect API (the offline CLI).

Both speak one small protocol (:class:`LimitStore`):

- ``take(names, slots, mode, wait)``: occupy ``slots`` on every limit named, all or none. In
  ``"concurrency"`` mode slots stay until given back; in ``"rate_limit"`` mode they decay at
  the limit's ``slot_decay_per_second``. With ``wait`` it polls until granted (backing off),
  else it answers at once.
- ``give(names, slots)``: free slots (never below zero).
- ``lease(names, slots, seconds)`` / ``release(lease)``: ``take`` whose slots come back by
  themselves after ``seconds`` if the holder dies (a killed worker never keeps a slot);
  ``renew(lease, seconds)`` keeps a live holder's lease from running out.

Each call to :class:`PrefectLimits` is one HTTP round trip to the server (measured in
``bench/global_limits.py``); callers keep it off the per-call path where they can.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Mode = Literal["concurrency", "rate_limit"]
MIN_LEASE_S = 60.0  # Prefect refuses shorter leases
_POLL_FIRST_S = 0.02
_POLL_MAX_S = 0.25  # a waiter polls at most every 250 ms (server CPU), at least every 20 ms
_BUSY_TRIES = 8  # a busy server (503) is asked again this many times before giving up


@dataclass(frozen=True)
class LimitState:
    name: str
    limit: int
    active_slots: int
    slot_decay_per_second: float


class LimitStore(Protocol):
    """Where shared limits live (see the module's docstring)."""

    async def ensure(self, name: str, limit: int, decay: float = 0.0) -> None: ...

    async def delete(self, name: str) -> None: ...

    async def read(self, name: str) -> LimitState | None: ...

    async def take(
        self, names: list[str], slots: int, mode: Mode = "concurrency", wait: bool = True
    ) -> bool: ...

    async def give(self, names: list[str], slots: int) -> None: ...

    async def lease(
        self, names: list[str], slots: int, seconds: float, wait: bool = True
    ) -> Any: ...

    async def release(self, lease: Any) -> None: ...

    async def renew(self, lease: Any, seconds: float) -> bool | None: ...

    async def fill(self, name: str) -> None: ...


def _backoff(delay: float, hint: float | None = None) -> float:
    """The next poll delay: the server's hint when it has one, else doubling, bounded."""
    if hint is not None and hint > 0:
        return min(max(hint, _POLL_FIRST_S), _POLL_MAX_S * 4)
    return min(delay * 2, _POLL_MAX_S)


class PrefectLimits:
    """Global concurrency limits on the Prefect server this process is configured for."""

    def __init__(self, timeout_s: float | None = None) -> None:
        self.timeout_s = timeout_s  # None: wait as long as it takes
        self.round_trips = 0

    def _client(self) -> Any:
        from prefect.client.orchestration import get_client

        return get_client()

    async def ensure(self, name: str, limit: int, decay: float = 0.0) -> None:
        """Create the limit, or set its size and decay if it exists (active slots kept)."""
        async with self._client() as client:
            for attempt in range(2):  # another process may create it between read and create
                self.round_trips += 2
                try:
                    await client.upsert_global_concurrency_limit_by_name(
                        name, limit=max(0, int(limit)), slot_decay_per_second=float(decay)
                    )
                    return
                except Exception:
                    if attempt:
                        raise

    async def delete(self, name: str) -> None:
        from prefect.exceptions import ObjectNotFound

        async with self._client() as client:
            self.round_trips += 1
            with contextlib.suppress(ObjectNotFound):
                await client.delete_global_concurrency_limit_by_name(name)

    async def read(self, name: str) -> LimitState | None:
        from prefect.exceptions import ObjectNotFound

        async with self._client() as client:
            self.round_trips += 1
            try:
                found = await client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                return None
        return LimitState(
            name, found.limit, found.active_slots, float(found.slot_decay_per_second or 0.0)
        )

    async def fill(self, name: str) -> None:
        """Occupy every slot: whoever asks next is refused (a crossed spend cap)."""
        from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

        state = await self.read(name)
        if state is None:
            return
        async with self._client() as client:
            self.round_trips += 1
            await client.update_global_concurrency_limit(
                name, GlobalConcurrencyLimitUpdate(active_slots=state.limit)
            )

    async def _increment(self, call: Any, wait: bool) -> Any:
        """``call(client)`` until the server grants it; None when refused and not waiting.

        A busy server (5xx, a dropped connection: SQLite under load answers 503) is asked
        again after a pause, also when not waiting: a refusal must mean "no room".
        """
        import httpx

        delay, started, busy = _POLL_FIRST_S, time.monotonic(), 0
        async with self._client() as client:
            while True:
                self.round_trips += 1
                hint = None
                try:
                    return await call(client)
                except httpx.HTTPStatusError as exc:
                    status = exc.response.status_code
                    if status == 422:  # more slots than the limit holds: never granted
                        return None
                    if status == 423:
                        if not wait:
                            return None
                        hint = _retry_after(exc.response)
                    elif status < 500 or busy >= _BUSY_TRIES:
                        raise
                    else:
                        busy += 1
                except httpx.TransportError:
                    busy += 1
                    if busy > _BUSY_TRIES:
                        raise
                if self.timeout_s is not None and time.monotonic() - started > self.timeout_s:
                    raise TimeoutError(f"no slot within {self.timeout_s} s")
                delay = _backoff(delay, hint)
                await asyncio.sleep(delay)

    async def _again(self, call: Any) -> None:
        """``call(client)``, asked again while the server is busy (5xx, dropped connection)."""
        import httpx

        delay = _POLL_FIRST_S
        async with self._client() as client:
            for attempt in range(_BUSY_TRIES + 1):
                self.round_trips += 1
                try:
                    await call(client)
                    return
                except httpx.HTTPStatusError as exc:
                    if exc.response.status_code < 500 or attempt == _BUSY_TRIES:
                        raise
                except httpx.TransportError:
                    if attempt == _BUSY_TRIES:
                        raise
                delay = _backoff(delay)
                await asyncio.sleep(delay)

    async def take(
        self, names: list[str], slots: int, mode: Mode = "concurrency", wait: bool = True
    ) -> bool:
        if slots <= 0:
            return True
        granted = await self._increment(
            lambda c: c.increment_concurrency_slots(names=names, slots=slots, mode=mode), wait
        )
        return granted is not None

    async def give(self, names: list[str], slots: int) -> None:
        if slots <= 0:
            return
        await self._again(
            lambda c: c.release_concurrency_slots(names=names, slots=slots, occupancy_seconds=1.0)
        )

    async def lease(self, names: list[str], slots: int, seconds: float, wait: bool = True) -> Any:
        response = await self._increment(
            lambda c: c.increment_concurrency_slots_with_lease(
                names=names,
                slots=slots,
                mode="concurrency",
                lease_duration=max(MIN_LEASE_S, seconds),
            ),
            wait=wait,
        )
        return None if response is None else response.json()["lease_id"]

    async def release(self, lease: Any) -> None:
        if lease is None:
            return
        await self._again(lambda c: c.release_concurrency_slots_with_lease(lease_id=lease))

    async def renew(self, lease: Any, seconds: float) -> bool | None:
        """Push the lease's expiry ``seconds`` from now: True when done, False when the server
        no longer has it (410: it ran out and its slots went back), None when the server
        could not be asked (busy, unreachable: try again soon)."""
        import httpx

        if lease is None:
            return False
        try:
            await self._again(
                lambda c: c.renew_concurrency_lease(
                    lease_id=lease, lease_duration=max(MIN_LEASE_S, seconds)
                )
            )
        except httpx.HTTPStatusError as exc:
            return False if exc.response.status_code in (404, 410) else None
        except Exception:
            return None
        return True


def _retry_after(response: Any) -> float | None:
    try:
        return float(response.headers.get("Retry-After"))
    except (TypeError, ValueError):
        return None


@dataclass
class _Counter:
    limit: int
    decay: float
    active: float = 0.0
    stamp: float = 0.0

    def now_active(self) -> float:
        now = time.monotonic()
        if self.decay > 0:
            self.active = max(0.0, self.active - (now - self.stamp) * self.decay)
        self.stamp = now
        return self.active


class LocalLimits:
    """The same limits in this process only: what a run with no Prefect API shares."""

    def __init__(self) -> None:
        self._limits: dict[str, _Counter] = {}
        self.round_trips = 0  # never any: kept for the same reports

    async def ensure(self, name: str, limit: int, decay: float = 0.0) -> None:
        counter = self._limits.get(name)
        if counter is None:
            self._limits[name] = _Counter(int(limit), float(decay), stamp=time.monotonic())
        else:
            counter.limit, counter.decay = int(limit), float(decay)

    async def delete(self, name: str) -> None:
        self._limits.pop(name, None)

    async def read(self, name: str) -> LimitState | None:
        counter = self._limits.get(name)
        if counter is None:
            return None
        return LimitState(name, counter.limit, math.ceil(counter.now_active()), counter.decay)

    async def fill(self, name: str) -> None:
        if name in self._limits:
            self._limits[name].active = float(self._limits[name].limit)

    def _try(self, names: list[str], slots: int) -> bool | None:
        counters = [self._limits[n] for n in names if n in self._limits]
        if any(slots > c.limit for c in counters):
            return None  # never grantable
        if all(c.now_active() + slots <= c.limit for c in counters):
            for c in counters:
                c.active += slots
            return True
        return False

    async def take(
        self, names: list[str], slots: int, mode: Mode = "concurrency", wait: bool = True
    ) -> bool:
        if slots <= 0:
            return True
        delay = _POLL_FIRST_S / 2
        while True:
            granted = self._try(names, slots)
            if granted is not None and (granted or not wait):
                return granted
            if granted is None:
                return False
            delay = min(delay * 2, _POLL_MAX_S / 5)
            await asyncio.sleep(delay)

    async def give(self, names: list[str], slots: int) -> None:
        for name in names:
            counter = self._limits.get(name)
            if counter is not None:
                counter.active = max(0.0, counter.now_active() - slots)

    async def lease(self, names: list[str], slots: int, seconds: float, wait: bool = True) -> Any:
        # One process: a dead holder takes its counters with it, so no expiry is needed.
        return (tuple(names), slots) if await self.take(names, slots, wait=wait) else None

    async def release(self, lease: Any) -> None:
        if lease is not None:
            await self.give(list(lease[0]), lease[1])

    async def renew(self, lease: Any, seconds: float) -> bool | None:
        return lease is not None  # in one process a lease never runs out


def prefect_api_configured() -> bool:
    """Whether this process talks to a Prefect server (else limits stay in-process)."""
    try:
        from prefect.settings import PREFECT_API_URL

        return bool(PREFECT_API_URL.value())
    except Exception:
        return False


_local = LocalLimits()
_prefect = PrefectLimits()


def default_store() -> LimitStore:
    """The server's limits when there is a Prefect API; this process's otherwise."""
    return _prefect if prefect_api_configured() else _local
