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

import dataclasses
import math
from multiprocessing.context import BaseContext
from typing import Any

from eightflow.errors import BudgetExceeded
from eightflow.runtime.budget import Budget, Reservation
from eightflow.runtime.global_limits import LimitStore, default_store
from eightflow.runtime.limiter import CallLimiter
from eightflow.runtime.pooled_slots import PooledSlots

MICRO = 1_000_000  # the spend limit counts micro-dollars

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


class BatchSlots(PooledSlots):
    """The batch's in-flight limit as a gate: slots handed between a process's calls."""


def _micro(cost_usd: float | None) -> int:
    return math.ceil((cost_usd or 0.0) * MICRO - 1e-6) if cost_usd else 0


class BatchBudget:
    """A budget whose cap holds for the whole sharded batch (see the module's docstring).

    This process draws spend from the batch's limit a share of the cap at a time
    (``CHUNK_SHARE``, its *credit*) and reserves and settles calls against that credit
    here, so most calls make no round trip; a call that does not fit draws again, first a
    chunk, then exactly what it needs, and is refused when even that is not there. Credit
    left over goes back when the run ends (:meth:`aclose`) or this process is refused.
    Every micro-dollar spent or reserved anywhere was drawn from the limit first, so the
    batch's spend passes the cap by at most what calls in flight settle above their
    estimates, as in one process.

    This process's own :class:`Budget` (``local``) keeps its counters, its summary and its
    checks; every other attribute is the local one's.
    """

    CHUNK_SHARE = 0.02

    def __init__(self, local: Budget, spend: str, store: LimitStore) -> None:
        self.local = local
        self.spend_limit = spend
        self.store = store
        cap = local.max_cost_usd or 0.0
        self.chunk = max(1, math.floor(cap * MICRO * self.CHUNK_SHARE))
        self.credit = 0  # micro-dollars drawn from the batch and not yet reserved here

    _OWN = frozenset({"local", "spend_limit", "store", "chunk", "credit"})

    def __getattr__(self, name: str) -> Any:
        if name == "local":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.local, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # on_budget raises the cap or marks it exhausted on the budget it holds: the local one
        if name in self._OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.local, name, value)

    async def _draw(self, micro: int) -> bool:
        """Take ``micro`` out of this process's credit, drawing on the batch if needed."""
        if micro <= 0:
            return True
        if self.credit < micro:
            need = micro - self.credit
            for ask in dict.fromkeys((max(need, self.chunk), need)):
                if await self.store.take([self.spend_limit], ask, wait=False):
                    self.credit += ask
                    break
        if self.credit >= micro:
            self.credit -= micro
            return True
        return False

    async def _exhausted(self) -> BudgetExceeded:
        self.local.exhausted = "max_cost_usd"
        await self.aclose()  # what this process held goes back to the other shards
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
        if not await self._draw(micro):
            self.local.release(reservation)
            raise await self._exhausted()
        reservation.shared_micro_usd = micro
        return reservation

    async def asettle(self, reservation: Reservation, tokens: int, cost_usd: float | None) -> None:
        crossed = False
        delta = _micro(cost_usd) - reservation.shared_micro_usd
        if delta < 0:
            self.credit -= delta
        elif delta > 0 and not await self._draw(delta):
            crossed = True  # paid for, past the batch's cap: every shard stops
            self.credit = 0  # spent, with the rest: nothing to give back
            await self.store.fill(self.spend_limit)
        if not crossed and self.credit > 2 * self.chunk:  # a high estimate: give the rest back
            spare, self.credit = self.credit - self.chunk, self.chunk
            await self.store.give([self.spend_limit], spare)
        self.local.settle(reservation, tokens, cost_usd)  # raises past this process's view
        if crossed:
            raise await self._exhausted()

    async def acharge(self, reservation: Reservation) -> None:
        self.local.charge(reservation)  # the estimate stays spent

    async def arelease(self, reservation: Reservation) -> None:
        self.credit += reservation.shared_micro_usd
        self.local.release(reservation)

    async def aclose(self) -> None:
        """Give this process's unspent credit back to the batch (the run's end)."""
        credit, self.credit = self.credit, 0
        if credit > 0:
            await self.store.give([self.spend_limit], credit)

    def fraction_used(self) -> float | None:
        return self.local.fraction_used()

    async def afraction_used(self) -> float | None:
        """The whole batch's spend over its cap: one round trip. It counts what calls in
        flight hold and the credit shards have drawn but not used (a chunk each at most)."""
        state = await self.store.read(self.spend_limit)
        if state is None or not state.limit:
            return self.local.fraction_used()
        return state.active_slots / state.limit

    async def aspent_usd(self) -> float:
        """The whole batch's spend in USD, as :meth:`afraction_used` counts it."""
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


async def release_shared(budget: Any, limiter: CallLimiter) -> None:
    """Give back what this process holds of a sharded batch's limits: its unspent credit,
    its idle in-flight slots (the run's end)."""
    await budget.aclose()
    for gate in limiter.gates:
        if isinstance(gate, BatchSlots):
            await gate.sweep()
