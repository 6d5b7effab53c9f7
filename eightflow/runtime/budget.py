"""Run budgets: tokens and USD, reserved before a call and settled after it.

The gateway reserves what a call is sure to cost (its prompt tokens, priced) before
making it, so concurrent calls cannot all slip under the cap at once. Output is only known
afterwards: spend can pass the cap by at most the output of the calls already in flight,
and the call that crosses it is the last one that starts.

The gateway goes through the async doors (:meth:`Budget.areserve`, ``asettle``,
``acharge``, ``arelease``): a budget shared by a sharded batch's flow runs
(:class:`eightflow.batch.shared_bounds.BatchBudget`) makes a round trip to the Prefect
server there. Whoever decides on spend (``on_budget``) asks :meth:`Budget.fraction_used`
(this process's view, no round trip) or ``await budget.afraction_used()`` /
``await budget.aspent_usd()`` (the whole batch's, for a batch-wide budget).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from eightflow.errors import BudgetExceeded


@dataclass
class Reservation:
    tokens: int
    cost_usd: float
    counted: bool = field(default=True, compare=False)  # False: a placeholder, no call
    shared_micro_usd: int = field(default=0, compare=False)  # held on a batch-wide limit


@dataclass
class Budget:
    """Token and USD caps for one run (or one batch). Thread-safe; cheap to check."""

    max_tokens: int | None = None
    max_cost_usd: float | None = None
    spent_tokens: int = 0
    spent_usd: float = 0.0
    unpriced_calls: int = 0
    _reserved_tokens: int = 0
    _reserved_usd: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    exhausted: str | None = None
    in_flight: int = 0  # calls holding a reservation now
    # Calls in flight when the cap was crossed (or a reservation first refused): the
    # most calls that can still settle past the cap, since no call starts after that.
    in_flight_at_crossing: int | None = None
    charged_failures: int = 0  # failed calls charged their reserved estimate

    @property
    def limited(self) -> bool:
        return self.max_tokens is not None or self.max_cost_usd is not None

    def reserve(self, tokens: int, cost_usd: float | None) -> Reservation:
        """Claim room for a call, or raise :class:`BudgetExceeded` without making it."""
        cost = cost_usd or 0.0
        with self._lock:
            if self.exhausted:
                raise self._error(self.exhausted)
            if (
                self.max_tokens is not None
                and self.spent_tokens + self._reserved_tokens + tokens > self.max_tokens
            ):
                self.exhausted = "max_tokens"
                raise self._error("max_tokens")
            if (
                self.max_cost_usd is not None
                and self.spent_usd + self._reserved_usd + cost > self.max_cost_usd
            ):
                self.exhausted = "max_cost_usd"
                if self.in_flight_at_crossing is None:
                    self.in_flight_at_crossing = self.in_flight
                raise self._error(
                    "max_cost_usd",
                    f"; ${self._reserved_usd:.6f} is held by calls in flight and this call "
                    f"needs at least ${cost:.6f}",
                )
            self._reserved_tokens += tokens
            self._reserved_usd += cost
            self.in_flight += 1
            return Reservation(tokens, cost)

    def settle(self, reservation: Reservation, tokens: int, cost_usd: float | None) -> None:
        """Replace a reservation by what the call really used; raise if that crossed a cap.

        The call that crosses the cap still counts (it was paid for); what raises here is
        the signal that no further call may start.
        """
        crossed = self._spend(reservation, tokens, cost_usd)
        if crossed:
            raise self._error(crossed)

    def charge(self, reservation: Reservation) -> None:
        """A failed call the provider may have billed (timed out, answer lost) keeps its
        reserved estimate as its cost. Never raises: the call's own error is what the
        caller reports; a crossed cap still stops the next call from starting."""
        if reservation.tokens or reservation.cost_usd:
            with self._lock:
                self.charged_failures += 1
        self._spend(reservation, reservation.tokens, reservation.cost_usd)

    def _spend(self, reservation: Reservation, tokens: int, cost_usd: float | None) -> str | None:
        with self._lock:
            self._reserved_tokens -= reservation.tokens
            self._reserved_usd -= reservation.cost_usd
            self.spent_tokens += tokens
            if cost_usd is None:
                self.unpriced_calls += 1
            else:
                self.spent_usd += cost_usd
            crossed = None
            if self.max_tokens is not None and self.spent_tokens >= self.max_tokens:
                crossed = "max_tokens"
            elif self.max_cost_usd is not None and self.spent_usd >= self.max_cost_usd:
                crossed = "max_cost_usd"
            if crossed and self.in_flight_at_crossing is None:
                # This call and every other holding a reservation: the most that can still
                # settle past the cap, since no call starts once it is exhausted.
                self.in_flight_at_crossing = self.in_flight
            self.in_flight = max(0, self.in_flight - 1) if reservation.counted else self.in_flight
            if crossed:
                self.exhausted = crossed
            return crossed

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation for a call that failed before it was billed."""
        with self._lock:
            self._reserved_tokens -= reservation.tokens
            self._reserved_usd -= reservation.cost_usd
            if reservation.counted:
                self.in_flight = max(0, self.in_flight - 1)

    # -- the async doors the gateway uses; a batch-wide budget adds its round trips -----

    async def areserve(self, tokens: int, cost_usd: float | None) -> Reservation:
        return self.reserve(tokens, cost_usd)

    async def asettle(self, reservation: Reservation, tokens: int, cost_usd: float | None) -> None:
        self.settle(reservation, tokens, cost_usd)

    async def acharge(self, reservation: Reservation) -> None:
        self.charge(reservation)

    async def arelease(self, reservation: Reservation) -> None:
        self.release(reservation)

    async def aclose(self) -> None:
        """The run is over: a batch-wide budget gives back what it drew and did not use."""

    # -- spend so far, for whoever decides to go on, degrade or stop -------------------

    def fraction_used(self) -> float | None:
        """Spend over the cap (USD cap first, else tokens), held reservations included;
        None with no cap. This process's view: no round trip."""
        if self.max_cost_usd:
            return (self.spent_usd + self._reserved_usd) / self.max_cost_usd
        if self.max_tokens:
            return (self.spent_tokens + self._reserved_tokens) / self.max_tokens
        return None

    async def afraction_used(self) -> float | None:
        """:meth:`fraction_used` for the whole batch (a batch-wide budget asks the server)."""
        return self.fraction_used()

    async def aspent_usd(self) -> float:
        """USD spent (and held by calls in flight) for the whole batch."""
        return self.spent_usd + self._reserved_usd

    def _error(self, limit: str, detail: str = "") -> BudgetExceeded:
        if limit == "max_tokens":
            spent, cap = float(self.spent_tokens), float(self.max_tokens or 0)
            text = f"token budget exhausted: {self.spent_tokens} of {self.max_tokens} tokens used"
        else:
            spent, cap = self.spent_usd, float(self.max_cost_usd or 0.0)
            text = f"budget exhausted: ${self.spent_usd:.6f} of ${self.max_cost_usd} spent"
        return BudgetExceeded(text + detail, limit=limit, spent=spent, cap=cap)
