"""Retry policies and recovery decisions: what to do when a step fails.

Both are data. The compiler turns a :class:`RetryPolicy` into Prefect task retries and asks
the workflow's ``on_failure`` for a :class:`Recovery` each time a step fails; nothing here
imports Prefect.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RetryPolicy(BaseModel):
    """How many times a step may run and how long to wait between attempts.

    ``jitter`` is a fraction: each delay is scaled by a random factor in
    ``[1 - jitter, 1 + jitter]``. eightflow applies the jitter itself, as Prefect's
    client-side engine does not apply ``retry_jitter_factor``.
    """

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=1, ge=1, le=50)
    initial_delay: float = Field(default=1.0, ge=0)
    max_delay: float = Field(default=60.0, ge=0)
    multiplier: float = Field(default=2.0, ge=1.0)
    jitter: float = Field(default=0.0, ge=0, le=1)

    @classmethod
    def exponential(
        cls,
        max_attempts: int = 3,
        initial_delay: float = 1.0,
        max_delay: float = 60.0,
        multiplier: float = 2.0,
        jitter: float = 0.1,
    ) -> RetryPolicy:
        """Delays of ``initial_delay * multiplier**n``, capped at ``max_delay``."""
        return cls(
            max_attempts=max_attempts,
            initial_delay=initial_delay,
            max_delay=max_delay,
            multiplier=multiplier,
            jitter=jitter,
        )

    @classmethod
    def fixed(cls, max_attempts: int = 3, delay: float = 1.0, jitter: float = 0.0) -> RetryPolicy:
        """The same delay before every retry."""
        return cls(
            max_attempts=max_attempts,
            initial_delay=delay,
            max_delay=delay,
            multiplier=1.0,
            jitter=jitter,
        )

    @classmethod
    def none(cls) -> RetryPolicy:
        """One attempt, no retry."""
        return cls(max_attempts=1)

    @property
    def retries(self) -> int:
        return self.max_attempts - 1

    def base_delay(self, retry_index: int) -> float:
        """The un-jittered delay before retry number ``retry_index`` (0-based)."""
        return min(self.initial_delay * self.multiplier**retry_index, self.max_delay)

    def delay(self, retry_index: int, rng: random.Random | None = None) -> float:
        """A jittered delay; a fresh random factor on every call."""
        base = self.base_delay(retry_index)
        if not self.jitter or base <= 0:
            return base
        factor = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return max(0.0, base * factor)


RecoveryAction = Literal["retry", "fail_workflow", "skip", "fallback"]


class Recovery(BaseModel):
    """What ``on_failure`` decided for a failed step.

    - ``Recovery.retry()``: run the step again, within its retry policy;
    - ``Recovery.fail_workflow()``: stop starting steps and end the run Failed;
    - ``Recovery.skip(**outputs)``: mark the step skipped, dependents see ``outputs``;
    - ``Recovery.fallback(model=...)``: run the step again at once on another model.
    """

    model_config = ConfigDict(frozen=True)

    action: RecoveryAction
    outputs: dict[str, Any] = Field(default_factory=dict)
    model: str | None = None
    reason: str | None = None

    @classmethod
    def retry(cls, reason: str | None = None) -> Recovery:
        return cls(action="retry", reason=reason)

    @classmethod
    def fail_workflow(cls, reason: str | None = None) -> Recovery:
        return cls(action="fail_workflow", reason=reason)

    @classmethod
    def skip(cls, **default_outputs: Any) -> Recovery:
        return cls(action="skip", outputs=default_outputs)

    @classmethod
    def fallback(cls, model: str, reason: str | None = None) -> Recovery:
        if not model:
            raise ValueError("Recovery.fallback needs a model string, e.g. 'openai/gpt-4o-mini'")
        return cls(action="fallback", model=model, reason=reason)
