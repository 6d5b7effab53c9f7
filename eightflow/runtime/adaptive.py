"""Adaptive concurrency: cut model calls in flight when 429s come in bursts, win back slowly.

Additive increase, multiplicative decrease (AIMD), as TCP does it: a burst of rate-limit
answers halves the limit at once, and each run of ``limit`` successful calls without a
429 adds one slot back, up to the configured ceiling. A single stray 429 changes nothing;
a cut is followed by a cool-down so that the 429s of calls already in flight when the
limit fell do not cut it again. Every change is kept (time, from, to, reason) so the
batch can write it to its trace.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AIMDPolicy:
    """When to cut and when to grow; the defaults suit a provider's per-minute limits."""

    burst: int = 3  # 429s within ``window_s`` that count as a burst
    window_s: float = 2.0
    cooldown_s: float = 2.0  # no second cut this soon after one
    factor: float = 0.5
    minimum: int = 1


@dataclass
class AdaptiveLimit:
    """The current limit between ``minimum`` and ``ceiling``, and the log of its changes."""

    ceiling: int
    policy: AIMDPolicy = field(default_factory=AIMDPolicy)
    limit: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    _recent_429: list[float] = field(default_factory=list)
    _last_cut: float = float("-inf")
    _successes: int = 0

    def __post_init__(self) -> None:
        self.limit = self.limit or self.ceiling

    def rate_limited(self, now: float | None = None) -> bool:
        """Note a 429; returns True when it cut the limit."""
        now = time.monotonic() if now is None else now
        window = self.policy.window_s
        self._recent_429 = [t for t in self._recent_429 if now - t <= window] + [now]
        self._successes = 0
        cooling = now - self._last_cut < self.policy.cooldown_s
        if len(self._recent_429) < self.policy.burst or cooling:
            return False
        new = max(self.policy.minimum, int(self.limit * self.policy.factor))
        self._last_cut = now
        self._recent_429.clear()
        if new == self.limit:
            return False
        self._change(new, f"{self.policy.burst}+ rate-limit answers within {window:g} s")
        return True

    def succeeded(self) -> bool:
        """Note a successful call; returns True when it raised the limit by one."""
        if self.limit >= self.ceiling:
            return False
        self._successes += 1
        if self._successes < self.limit:
            return False
        self._successes = 0
        self._change(self.limit + 1, f"{self.limit} calls in a row without a rate limit")
        return True

    def _change(self, new: int, reason: str) -> None:
        from datetime import UTC, datetime

        self.changes.append(
            {
                "event": "concurrency",
                "at": datetime.now(UTC).isoformat(),
                "from": self.limit,
                "to": new,
                "reason": reason,
            }
        )
        self.limit = new
