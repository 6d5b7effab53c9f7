"""Prefect task options for steps: one place for the defaults and the retry mapping.

A step's :class:`RetryPolicy` becomes ``retries`` and ``retry_delay_seconds``; which errors
are retried is decided by recovery and read back by :func:`retry_condition`.
"""

from __future__ import annotations

import random
from typing import Any

from prefect.cache_policies import NONE

from eightflow.definition import RetryPolicy
from eightflow.errors import StepFailed


class JitteredDelays(list[float]):
    """Prefect reads ``retry_delay_seconds[i]`` at each retry; we add the jitter there.

    Prefect's client-side engine was measured ignoring ``retry_jitter_factor``, and a plain
    list would fix one jitter for the life of the task object. Iteration (what Prefect sends
    to the API) still yields the base delays.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        super().__init__(policy.base_delay(i) for i in range(max(policy.retries, 1)))
        self.policy = policy
        self._rng = random.Random()

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.policy.delay(index, self._rng)


async def retry_condition(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only what recovery said to retry (``StepFailed.retry``), nothing else."""
    error = state.data if isinstance(state.data, BaseException) else None
    if error is None:
        try:
            await state.aresult(raise_on_failure=True)
        except BaseException as exc:
            error = exc
    return isinstance(error, StepFailed) and error.retry


def step_task_options(policy: RetryPolicy, name: str) -> dict[str, Any]:
    """Keyword arguments for ``prefect.task`` for one step."""
    return {
        "name": name,
        "retries": policy.retries,
        "retry_delay_seconds": JitteredDelays(policy) if policy.retries else 0,
        "retry_condition_fn": retry_condition,
        # Steps pass live objects through a context variable, not parameters: nothing to
        # hash for a cache key and nothing to persist.
        "cache_policy": NONE,
        "persist_result": False,
        "log_prints": False,
    }
