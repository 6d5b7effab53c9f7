"""A provider's limits per model, shared by every run: requests and tokens a minute, calls
in flight.

The operator sets them in ``EIGHTFLOW_MODEL_LIMITS`` (JSON, model -> limits), e.g.
``{"openai/gpt-4o-mini": {"rpm": 500, "tpm": 200000, "in_flight": 16}}``; in a stack, the
same variable in ``prefect.yaml``'s ``job_variables.env`` reaches every worker. Each limit is
a Prefect global concurrency limit (``eightflow-model-<model>-rpm`` / ``-tpm`` /
``-inflight``): ``eightflow stack up`` creates them, a run creates any that is missing, and
the UI's Concurrency page shows them. ``rpm`` and ``tpm`` are rate limits (slots decay at
limit / window), ``in_flight`` a concurrency limit held for the length of the call (see
:class:`ModelGate` for how a process keeps round trips off most calls).

Tokens are reserved from an estimate before the call (prompt characters / 4 plus the
answer's ``max_tokens``) and settled with the provider's count after it: the difference
goes back, or is taken on top. With no Prefect API the same limits hold inside the process
(:class:`eightflow.runtime.global_limits.LocalLimits`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from typing import Any

from eightflow.runtime.global_limits import LimitStore, default_store, prefect_api_configured
from eightflow.runtime.pooled_slots import PooledSlots
from eightflow.settings import ModelLimits, get_settings

log = logging.getLogger(__name__)


def limit_name(model: str, kind: str) -> str:
    """``eightflow-model-<model as lowercase letters, digits and dashes>-<kind>``."""
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")
    return f"eightflow-model-{slug}-{kind}"


def limit_sizes(model: str, limits: ModelLimits, window_s: float) -> list[tuple[str, int, float]]:
    """(name, slots, decay per second) of each limit the operator set for ``model``."""
    sizes = []
    if limits.rpm:
        rpm = limits.rpm
        sizes.append((limit_name(model, "rpm"), max(1, math.ceil(rpm)), rpm / window_s))
    if limits.tpm:
        sizes.append((limit_name(model, "tpm"), limits.tpm, limits.tpm / window_s))
    if limits.in_flight:
        sizes.append((limit_name(model, "inflight"), limits.in_flight, 0.0))
    return sizes


async def ensure_model_limits(
    store: LimitStore, configured: dict[str, ModelLimits], window_s: float = 60.0
) -> list[str]:
    """Create (or resize) every configured model limit; their names (``stack up``)."""
    names = []
    for model, limits in configured.items():
        for name, slots, decay in limit_sizes(model, limits, window_s):
            await store.ensure(name, slots, decay)
            names.append(name)
    return names


class ModelGate:
    """One model's limits around each of its calls (a gate of the call limiter).

    As for a sharded batch, a process keeps the round trips off most calls: it hands its
    in-flight slots from call to call (:class:`PooledSlots`), and draws requests and tokens
    from the rate limits ``CREDIT_SHARE`` of a limit at a time, spending them here. Drawn
    and unused, they decay on the server like used ones: a process's leftover is at most a
    share of a minute's budget, never more than the limit.
    """

    CREDIT_SHARE = 0.02

    def __init__(
        self, model: str, limits: ModelLimits, store: LimitStore, window_s: float = 60.0
    ) -> None:
        self.model = model
        self.limits = limits
        self.store = store
        self.window_s = window_s
        self._ready = False
        self._creating: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self.names = {kind: limit_name(model, kind) for kind in ("rpm", "tpm", "inflight")}
        self.slots = PooledSlots(self.names["inflight"], store) if limits.in_flight else None
        self._credit = {"rpm": 0, "tpm": 0}  # drawn from the rate limits, not yet used

    async def _ensure(self) -> None:
        """Create the limits once per process (the first call; the others wait for it)."""
        if self._ready:
            return
        loop = asyncio.get_running_loop()
        if self._creating is None or self._creating[0] is not loop:
            self._creating = (loop, asyncio.Lock())
        async with self._creating[1]:
            if not self._ready:
                await ensure_model_limits(self.store, {self.model: self.limits}, self.window_s)
                self._ready = True

    def _tokens(self, tokens: int) -> int:
        # A call larger than the whole window is let through once the window is empty.
        return max(1, min(tokens, self.limits.tpm or tokens))

    async def _spend(self, kind: str, slots: int, wait: bool = True) -> bool:
        """Take ``slots`` of a rate limit from this process's credit, drawing on the shared
        limit (``CREDIT_SHARE`` of it at a time) when the credit is short."""
        if self._credit[kind] < slots:
            limit = self.limits.tpm if kind == "tpm" else math.ceil(self.limits.rpm or 1)
            chunk = max(1, math.floor((limit or 1) * self.CREDIT_SHARE))
            need = slots - self._credit[kind]
            for ask in dict.fromkeys((min(max(need, chunk), limit or need), need)):
                if await self.store.take([self.names[kind]], ask, "rate_limit", wait=wait):
                    self._credit[kind] += ask
                    break
        if self._credit[kind] >= slots:
            self._credit[kind] -= slots
            return True
        return False

    async def enter(self, tokens: int) -> dict[str, Any]:
        """Wait for room on each limit; what :meth:`exit` settles."""
        await self._ensure()
        held: dict[str, Any] = {}
        if self.slots is not None:
            held["slot"] = await self.slots.enter(tokens)
        try:
            if self.limits.rpm:
                await self._spend("rpm", 1)
            if self.limits.tpm:
                held["tokens"] = self._tokens(tokens)
                await self._spend("tpm", held["tokens"])
        except BaseException:
            if "slot" in held and self.slots is not None:
                await self.slots.exit(held["slot"], None)
            raise
        return held

    async def exit(self, held: dict[str, Any], used: int | None) -> None:
        """Hand the in-flight slot on; settle the token reservation with the real count."""
        try:
            if "slot" in held and self.slots is not None:
                await self.slots.exit(held["slot"], used)
            reserved = held.get("tokens")
            if reserved is not None and used is not None:
                actual = self._tokens(used) if used else 0
                if actual < reserved:  # kept as credit for the next call: no round trip
                    self._credit["tpm"] += reserved - actual
                elif actual > reserved:
                    await self._spend("tpm", actual - reserved, wait=False)
        except Exception as exc:  # a lease runs out by itself; the call's answer stands
            log.warning("could not settle the limits of %s: %s", self.model, exc)


_gates: dict[tuple[str, bool, ModelLimits, float], ModelGate] = {}


def model_gate(model: str | None) -> ModelGate | None:
    """The gate of ``model``'s operator limits in this process; None when it has none."""
    if not model:
        return None
    settings = get_settings()
    limits = settings.model_limits.get(model)
    if limits is None:
        return None
    key = (model, prefect_api_configured(), limits, settings.rate_window_s)
    gate = _gates.get(key)
    if gate is None:
        gate = _gates[key] = ModelGate(model, limits, default_store(), settings.rate_window_s)
    return gate


def reset_model_gates() -> None:
    """Forget the gates (tests; settings changed)."""
    _gates.clear()
