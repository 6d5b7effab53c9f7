"""Batch-wide bounds that hold across worker processes, and across a sharded batch's flow runs.

Inside one flow run:

- Concurrency and requests per minute are split into per-process shares that sum to the
  batch's figures (:func:`split`): each process keeps its own :class:`CallLimiter` at its
  share, so the batch never has more than ``concurrency`` calls in flight nor more than
  ``rpm`` starts a minute, with no cross-process round trip per call.
- The budget is one set of counters in shared memory (:class:`SharedBudget`): every
  reserve / settle / release runs under one cross-process lock, so the single-process
  rule still holds batch-wide — no call starts once the cap is reached, and spend passes
  the cap by at most what the calls already in flight (in every process) return.

Across the flow runs of a sharded batch (``batch-sharded``), possibly on several machines,
the coordinator creates two Prefect global concurrency limits named after the batch
(:class:`BatchLimits`) before any shard starts, and deletes them when it ends:

- ``eightflow-batch-<key>-inflight``, limit ``concurrency``: every call of every shard holds
  a leased slot on it while it is in flight (:class:`BatchSlots`). A lease comes back by
  itself if its worker dies.
- ``eightflow-batch-<key>-spend``, limit ``max_cost_usd`` in micro-dollars: each call
  reserves its estimate there before it starts, and settles with its real cost after
  (:class:`BatchBudget`). A reservation that does not fit is refused, so no call starts once
  the batch's spend (with what calls in flight hold) reaches the cap: overshoot stays
  bounded by the calls in flight across all shards. A call that settles past the cap fills
  the limit, so every shard stops at its next call.

Each shard gets the key as its ``batch_key`` parameter; :func:`batch_wide` puts the limits
around its budget and limiter. With no Prefect API a batch is one flow run, and the
in-process bounds above are the whole story.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from multiprocessing.context import BaseContext
from typing import Any

from eightflow.errors import BudgetExceeded
from eightflow.runtime.budget import Budget, Reservation
from eightflow.runtime.global_limits import LimitStore, default_store
from eightflow.runtime.limiter import CallLimiter

MICRO = 1_000_000  # the spend limit counts micro-dollars
LEASE_S = 300.0  # a dead worker's in-flight slot comes back after this long

_LIMITS = ("max_tokens", "max_cost_usd")
_EXHAUSTED = (None, "max_tokens", "max_cost_usd")


def split(total: int, parts: int) -> list[int]:
    """``total`` as ``parts`` near-equal positive shares that sum to ``total``."""
    parts = max(1, min(parts, total))
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def split_rpm(rpm: float | None, parts: int) -> list[float | None]:
    return [rpm / parts if rpm else None for _ in range(parts)]


def _shared_fields() -> list[str]:
    """The Budget's counters: every field but the caps and its (thread) lock."""
    return [
        f.name
        for f in dataclasses.fields(Budget)
        if f.name not in _LIMITS and f.name != "_lock" and not f.name.startswith("__")
    ]


class BudgetCell:
    """The shared memory and lock behind every process's :class:`SharedBudget`.

    Made in the parent from the workers' context and handed to each worker at start.
    """

    def __init__(self, ctx: BaseContext) -> None:
        self.names = _shared_fields()
        self.values = ctx.Array("d", [math.nan] * len(self.names), lock=False)
        self.lock = ctx.RLock()


def _encode(name: str, value: Any) -> float:
    if name == "exhausted":
        return float(_EXHAUSTED.index(value))
    return math.nan if value is None else float(value)


def _decode(name: str, raw: float, default: Any) -> Any:
    if name == "exhausted":
        return _EXHAUSTED[int(raw)] if not math.isnan(raw) else None
    if math.isnan(raw):
        return default
    return raw if isinstance(default, float) else int(raw)


class SharedBudget(Budget):
    """A :class:`Budget` whose counters live in a :class:`BudgetCell`.

    The single-process logic is reused as is: each public method runs under the cell's
    cross-process lock, and every counter it reads or writes is the shared one.
    """

    def __init__(
        self, cell: BudgetCell, max_tokens: int | None, max_cost_usd: float | None
    ) -> None:
        object.__setattr__(self, "_cell", None)  # writes during Budget.__init__ stay local
        super().__init__(max_tokens=max_tokens, max_cost_usd=max_cost_usd)
        defaults = {f.name: f.default for f in dataclasses.fields(Budget)}
        object.__setattr__(self, "_defaults", defaults)
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(cell.names)})
        object.__setattr__(self, "_cell", cell)

    def __getattribute__(self, name: str) -> Any:
        cell = object.__getattribute__(self, "__dict__").get("_cell")
        if cell is not None and name in object.__getattribute__(self, "_index"):
            raw = cell.values[object.__getattribute__(self, "_index")[name]]
            return _decode(name, raw, object.__getattribute__(self, "_defaults")[name])
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        cell = self.__dict__.get("_cell")
        if cell is not None and name in self._index:
            cell.values[self._index[name]] = _encode(name, value)
        else:
            object.__setattr__(self, name, value)

    def reserve(self, tokens: int, cost_usd: float | None) -> Reservation:
        with self._cell.lock:
            return super().reserve(tokens, cost_usd)

    def settle(self, reservation: Reservation, tokens: int, cost_usd: float | None) -> None:
        with self._cell.lock:
            super().settle(reservation, tokens, cost_usd)

    def release(self, reservation: Reservation) -> None:
        with self._cell.lock:
            super().release(reservation)

    def charge(self, reservation: Reservation) -> None:  # Budget.charge, where it exists
        parent = getattr(super(), "charge", None)
        if parent is None:
            raise AttributeError("charge")
        with self._cell.lock:
            parent(reservation)


@dataclasses.dataclass(frozen=True)
class BatchLimits:
    """The names and sizes of one sharded batch's limits."""

    key: str
    concurrency: int
    max_cost_usd: float | None = None

    @property
    def inflight(self) -> str:
        return f"eightflow-batch-{self.key}-inflight"

    @property
    def spend(self) -> str:
        return f"eightflow-batch-{self.key}-spend"

    async def create(self, store: LimitStore | None = None) -> None:
        """Before any shard starts (the coordinator)."""
        store = store or default_store()
        await store.ensure(self.inflight, self.concurrency)
        if self.max_cost_usd is not None:
            await store.ensure(self.spend, max(1, math.floor(self.max_cost_usd * MICRO)))

    async def delete(self, store: LimitStore | None = None) -> None:
        """When the batch ends, however it ends (the coordinator)."""
        store = store or default_store()
        for name in (self.inflight, self.spend):
            await store.delete(name)


class BatchSlots:
    """A gate of the call limiter: one leased slot of the batch's in-flight limit per call.

    One waiter per process polls the server at a time; the others queue behind it locally,
    so a full batch costs the server a few polls a second per process, not one per call.
    """

    def __init__(self, name: str, store: LimitStore) -> None:
        self.name = name
        self.store = store
        self._turns: dict[int, asyncio.Lock] = {}

    def _turn(self) -> asyncio.Lock:
        loop = id(asyncio.get_running_loop())
        if loop not in self._turns:
            self._turns = {loop: asyncio.Lock()}
        return self._turns[loop]

    async def enter(self, tokens: int) -> Any:
        async with self._turn():
            return await self.store.lease([self.name], 1, LEASE_S)

    async def exit(self, held: Any, used: int | None) -> None:
        await self.store.release(held)


def _micro(cost_usd: float | None) -> int:
    return math.ceil((cost_usd or 0.0) * MICRO - 1e-6) if cost_usd else 0


class BatchBudget:
    """A budget whose cap holds for the whole sharded batch (see the module's docstring).

    This process's own :class:`Budget` (``local``) keeps its counters, its summary and its
    checks; every other attribute is the local one's.
    """

    def __init__(self, local: Budget, spend: str, store: LimitStore) -> None:
        self.local = local
        self.spend_limit = spend
        self.store = store

    def __getattr__(self, name: str) -> Any:
        if name == "local":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.local, name)

    def _exhausted(self) -> BudgetExceeded:
        self.local.exhausted = "max_cost_usd"
        cap = float(self.local.max_cost_usd or 0.0)
        return BudgetExceeded(
            f"batch budget exhausted: the shards' spend reached the ${cap} cap",
            limit="max_cost_usd",
            spent=cap,
            cap=cap,
        )

    async def areserve(self, tokens: int, cost_usd: float | None) -> Reservation:
        reservation = self.local.reserve(tokens, cost_usd)
        micro = _micro(reservation.cost_usd)
        if micro and not await self.store.take([self.spend_limit], micro, wait=False):
            self.local.release(reservation)
            raise self._exhausted()
        reservation.shared_micro_usd = micro
        return reservation

    async def asettle(self, reservation: Reservation, tokens: int, cost_usd: float | None) -> None:
        crossed = False
        delta = _micro(cost_usd) - reservation.shared_micro_usd
        if delta < 0:
            await self.store.give([self.spend_limit], -delta)
        elif delta > 0 and not await self.store.take([self.spend_limit], delta, wait=False):
            crossed = True  # paid for, past the batch's cap: every shard stops
            await self.store.fill(self.spend_limit)
        self.local.settle(reservation, tokens, cost_usd)  # raises past this process's view
        if crossed:
            raise self._exhausted()

    async def acharge(self, reservation: Reservation) -> None:
        self.local.charge(reservation)  # the estimate stays held on the batch's limit

    async def arelease(self, reservation: Reservation) -> None:
        if reservation.shared_micro_usd:
            await self.store.give([self.spend_limit], reservation.shared_micro_usd)
        self.local.release(reservation)

    def fraction_used(self) -> float | None:
        return self.local.fraction_used()

    async def afraction_used(self) -> float | None:
        """The whole batch's spend (settled and held) over its cap: one round trip."""
        state = await self.store.read(self.spend_limit)
        if state is None or not state.limit:
            return self.local.fraction_used()
        return state.active_slots / state.limit

    async def aspent_usd(self) -> float:
        """The whole batch's spend in USD (settled and held): one round trip."""
        state = await self.store.read(self.spend_limit)
        return state.active_slots / MICRO if state is not None else await self.local.aspent_usd()


def batch_wide(
    budget: Budget, limiter: CallLimiter, key: str | None, store: LimitStore | None = None
) -> tuple[Any, CallLimiter]:
    """``budget`` and ``limiter`` bound by the sharded batch ``key``'s limits (unchanged
    without a key): the limiter gains the batch's in-flight gate, the budget its spend."""
    if not key:
        return budget, limiter
    store = store or default_store()
    limits = BatchLimits(key, limiter.concurrency)
    if not any(isinstance(g, BatchSlots) for g in limiter.gates):
        limiter.gates.append(BatchSlots(limits.inflight, store))
    if budget.max_cost_usd is not None and not isinstance(budget, BatchBudget):
        return BatchBudget(budget, limits.spend, store), limiter
    return budget, limiter
