"""Token-aware pacing from what the provider says in its rate-limit headers.

OpenAI-compatible providers answer every call with how much of the key's budget is left
(``x-ratelimit-remaining-requests`` / ``-tokens``), when it refills
(``x-ratelimit-reset-requests`` / ``-tokens``: ``"1s"``, ``"6m0s"``, ``"20ms"``, or seconds)
and, on a 429, ``retry-after``. The budget is the key's, so those figures already count
every run on every worker that uses the key: pacing on them is pacing across runs.

One :class:`HeaderPacer` per model in a process (:func:`pacer_for`), shared by every run
there. Before a call, :meth:`HeaderPacer.wait` holds it while the tokens (or requests) left
in the provider's window cannot cover it, until the window resets; calls in flight count
against what is left, since the provider's figure was taken before they arrived. A 429's
``retry-after`` holds every call to that model until it has passed.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_WAIT_S = 120.0  # never hold a call longer than this on one figure
REFILL_GUESS_S = 1.0  # after a reset, trust the refilled budget this long without an answer
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(value: Any) -> float | None:
    """Seconds in ``"1s"``, ``"6m0s"``, ``"20ms"``, ``"1h2m"`` or a bare number; else None."""
    if value is None:
        return None
    text = str(value).strip().lower()
    try:
        seconds = float(text)
    except ValueError:
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            return None
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return min(seconds, MAX_WAIT_S)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number >= 0 else None


@dataclass(frozen=True)
class RateHeaders:
    """The rate-limit figures of one answer (None: the provider did not say)."""

    remaining_requests: float | None = None
    remaining_tokens: float | None = None
    limit_requests: float | None = None
    limit_tokens: float | None = None
    reset_requests_s: float | None = None
    reset_tokens_s: float | None = None
    retry_after_s: float | None = None

    @classmethod
    def of(cls, headers: Mapping[str, Any] | None) -> RateHeaders:
        """Read them from raw headers or litellm's ``llm_provider-`` prefixed copies."""
        if not headers:
            return cls()
        plain: dict[str, Any] = {}
        try:
            items = list(headers.items())
        except Exception:
            return cls()
        for key, value in items:
            name = str(key).lower().removeprefix("llm_provider-")
            plain.setdefault(name, value)
        retry = _number(plain.get("retry-after-ms"))
        retry_s = retry / 1000 if retry is not None else parse_duration(plain.get("retry-after"))
        return cls(
            remaining_requests=_number(plain.get("x-ratelimit-remaining-requests")),
            remaining_tokens=_number(plain.get("x-ratelimit-remaining-tokens")),
            limit_requests=_number(plain.get("x-ratelimit-limit-requests")),
            limit_tokens=_number(plain.get("x-ratelimit-limit-tokens")),
            reset_requests_s=parse_duration(plain.get("x-ratelimit-reset-requests")),
            reset_tokens_s=parse_duration(plain.get("x-ratelimit-reset-tokens")),
            retry_after_s=retry_s,
        )


class HeaderPacer:
    """What one model's provider last said, and the calls it lets start (see the module)."""

    def __init__(self) -> None:
        self.tokens_left: float | None = None
        self.tokens_reset_at = 0.0
        self.tokens_limit: float | None = None
        self.requests_left: float | None = None
        self.requests_reset_at = 0.0
        self.blocked_until = 0.0
        self.in_flight_tokens = 0
        self.in_flight = 0
        self.waits = 0  # calls held back at least once
        self.waited_s = 0.0

    def observe(self, headers: Mapping[str, Any] | None, now: float | None = None) -> None:
        """Take in one answer's (or one 429's) figures."""
        info = RateHeaders.of(headers)
        now = time.monotonic() if now is None else now
        if info.retry_after_s:
            self.blocked_until = max(self.blocked_until, now + info.retry_after_s)
        if info.limit_tokens is not None:
            self.tokens_limit = info.limit_tokens
        if info.remaining_tokens is not None:
            self.tokens_left = info.remaining_tokens
            self.tokens_reset_at = now + (info.reset_tokens_s or 0.0)
        if info.remaining_requests is not None:
            self.requests_left = info.remaining_requests
            self.requests_reset_at = now + (info.reset_requests_s or 0.0)

    def delay_for(self, tokens: int, now: float) -> float:
        """Seconds to hold a call of ``tokens`` before it may start; 0: start now."""
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.tokens_left is not None and now >= self.tokens_reset_at:
            # The window refilled: the whole budget if we know it, until the next answer.
            self.tokens_left = self.tokens_limit
            self.tokens_reset_at = now + REFILL_GUESS_S
        if self.tokens_left is not None and tokens + self.in_flight_tokens > self.tokens_left:
            whole = self.tokens_left >= (self.tokens_limit or float("inf"))
            if not (whole and self.in_flight_tokens == 0):  # a call bigger than any window
                return max(self.tokens_reset_at - now, 0.01)
        if self.requests_left is not None and now >= self.requests_reset_at:
            self.requests_left = None
        if self.requests_left is not None and self.in_flight + 1 > self.requests_left:
            return max(self.requests_reset_at - now, 0.01)
        return 0.0

    async def wait(self, tokens: int) -> None:
        """Hold until a call of ``tokens`` fits in what the provider has left, then count it."""
        held = False
        started = time.monotonic()
        while (delay := self.delay_for(tokens, time.monotonic())) > 0:
            held = True
            await asyncio.sleep(min(delay, MAX_WAIT_S) + 0.005)
        if held:
            self.waits += 1
            self.waited_s += time.monotonic() - started
        self.in_flight_tokens += tokens
        self.in_flight += 1

    def finished(self, tokens: int, headers: Mapping[str, Any] | None) -> None:
        """A call that :meth:`wait` let start has ended; its headers (if any) update us."""
        self.in_flight_tokens = max(0, self.in_flight_tokens - tokens)
        self.in_flight = max(0, self.in_flight - 1)
        if headers:
            self.observe(headers)


_pacers: dict[str, HeaderPacer] = {}


def pacer_for(model: str) -> HeaderPacer:
    """The process's pacer for ``model`` (every run in this process shares it)."""
    pacer = _pacers.get(model)
    if pacer is None:
        pacer = _pacers[model] = HeaderPacer()
    return pacer


def reset_pacers() -> None:
    """Forget every model's figures (tests; a new key)."""
    _pacers.clear()
