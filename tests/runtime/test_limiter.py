"""The call limiter's gates: entered once a local slot is held, settled with the answer."""

from __future__ import annotations

from typing import Any

import pytest

from eightflow.runtime.limiter import CallLimiter


class RecordingGate:
    def __init__(self, fail_exit: bool = False) -> None:
        self.events: list[tuple[str, Any]] = []
        self.fail_exit = fail_exit

    async def enter(self, tokens: int) -> Any:
        self.events.append(("enter", tokens))
        return f"held-{tokens}"

    async def exit(self, held: Any, used: int | None) -> None:
        self.events.append(("exit", (held, used)))
        if self.fail_exit:
            raise RuntimeError("server gone")


@pytest.mark.parametrize(
    ("outcome", "used"),
    [("answered", 180), ("refused", 0), ("error", None)],
)
async def test_a_gate_hears_what_the_call_used(outcome: str, used: int | None) -> None:
    gate = RecordingGate()
    limiter = CallLimiter(2, gates=[gate])
    with pytest.raises(ValueError) if outcome == "error" else _nothing():
        async with limiter.slot("fake/m", 300) as lease:
            assert limiter.in_flight == 1
            if outcome == "answered":
                lease.answered(180, {"x-ratelimit-remaining-tokens": "10"})
            elif outcome == "refused":
                lease.refused({"retry-after": "1"})
            else:
                raise ValueError("the call failed")
    assert gate.events == [("enter", 300), ("exit", ("held-300", used))]
    assert limiter.in_flight == 0


async def test_a_gate_that_cannot_give_back_does_not_fail_the_call() -> None:
    limiter = CallLimiter(1, gates=[RecordingGate(fail_exit=True)])
    async with limiter.slot("fake/m", 1) as lease:
        lease.answered(1)
    async with limiter.slot():  # the local slot came back
        pass


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
