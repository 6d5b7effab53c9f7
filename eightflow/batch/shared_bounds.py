"""Batch-wide bounds that hold across worker processes.

- Concurrency and requests per minute are split into per-process shares that sum to the
  batch's figures (:func:`split`): each process keeps its own :class:`CallLimiter` at its
  share, so the batch never has more than ``concurrency`` calls in flight nor more than
  ``rpm`` starts a minute, with no cross-process round trip per call.
- The budget is one set of counters in shared memory (:class:`SharedBudget`): every
  reserve / settle / release runs under one cross-process lock, so the single-process
  rule still holds batch-wide — no call starts once the cap is reached, and spend passes
  the cap by at most what the calls already in flight (in every process) return.
"""

from __future__ import annotations

import dataclasses
import math
from multiprocessing.context import BaseContext
from typing import Any

from eightflow.runtime.budget import Budget, Reservation

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
