"""A provider's limits per model, shared by every run: requests and tokens a minute, calls
in flight.

The operator sets them in ``EIGHTFLOW_MODEL_LIMITS`` (JSON, model -> limits), e.g.
``{"openai/gpt-4o-mini": {"rpm": 500, "tpm": 200000, "in_flight": 16}}``; in a stack, the
same variable in ``prefect.yaml``'s ``job_variables.env`` reaches every worker. Each limit is
a Prefect global concurrency limit (``eightflow-model-<model>-rpm`` / ``-tpm`` /
``-inflight``): ``eightflow stack up`` creates them, a run creates any that is missing, and
the UI's Concurrency page shows them. ``rpm`` and ``tpm`` are rate limits (slots decay at
limit / window), ``in_flight`` a concurrency limit held for the length of the call.

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
from eightflow.settings import ModelLimits, get_settings

log = logging.getLogger(__name__)
LEASE_S = 300.0  # an in-flight slot comes back by itself this long after its holder died


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
    """One model's limits around each of its calls (a gate of the call limiter)."""

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

    async def enter(self, tokens: int) -> dict[str, Any]:
        """Wait for a slot on each limit; what :meth:`exit` gives back."""
        await self._ensure()
        held: dict[str, Any] = {}
        if self.limits.in_flight:
            held["lease"] = await self.store.lease([self.names["inflight"]], 1, LEASE_S)
        try:
            if self.limits.rpm:
                await self.store.take([self.names["rpm"]], 1, mode="rate_limit")
            if self.limits.tpm:
                held["tokens"] = self._tokens(tokens)
                await self.store.take([self.names["tpm"]], held["tokens"], mode="rate_limit")
        except BaseException:
            await self.store.release(held.get("lease"))
            raise
        return held

    async def exit(self, held: dict[str, Any], used: int | None) -> None:
        """Give the in-flight slot back; settle the token reservation with the real count."""
        try:
            await self.store.release(held.get("lease"))
            reserved = held.get("tokens")
            if reserved is not None and used is not None:
                actual = self._tokens(used) if used else 0
                if actual < reserved:
                    await self.store.give([self.names["tpm"]], reserved - actual)
                elif actual > reserved:
                    await self.store.take(
                        [self.names["tpm"]], actual - reserved, mode="rate_limit", wait=False
                    )
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
