"""A wave's lines on their own: who is answered how from a finished batch's results, who
pays, and how lines are packed into files."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eightflow.batch import wave_lines
from eightflow.batch.wave_lines import Answer, Call, Line, Online, answer_lines, split_into_files
from eightflow.gateway.batches import LineResult
from eightflow.runtime.budget import Budget, Reservation

MODEL = "local/echo"  # simulated: priced 0 at both rates, no litellm price table
BODY = {
    "id": "x", "object": "chat.completion", "created": 0, "model": MODEL,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
}  # fmt: skip


def _line(loop: asyncio.AbstractEventLoop, callers: int = 2) -> Line:
    request = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}
    calls = [Call("c1", request, MODEL, f"d{i}", "s", f"r{i}", loop.create_future())
             for i in range(callers)]  # fmt: skip
    return Line("c1", calls, Reservation(10, 0.5))


@pytest.mark.parametrize(
    ("result", "known", "row_status", "why"),
    [
        (None, {}, "retried_online", "batch expired"),  # no line in the results
        (LineResult("c1", error="rate limited"), {}, "retried_online", "rate limited"),
        (None, {"c1": "earlier batch unavailable"}, "retried_online", "earlier batch unavailable"),
        (LineResult("c1", body=BODY), {}, "completed", None),
    ],
)
async def test_each_caller_gets_an_answer_or_goes_online(
    result: LineResult | None, known: dict[str, str], row_status: str, why: str | None
) -> None:
    line = _line(asyncio.get_running_loop())
    budget = Budget(max_cost_usd=1.0)
    budget.reserve(10, 0.5)
    results: dict[str, Any] = {"c1": result} if result is not None else {}
    online = dict(known)
    rows = answer_lines([line], results, "expired", {"wave": 1}, budget, online)
    assert rows["c1"]["status"] == row_status
    answers = [call.future.result() for call in line.calls]
    if why is None:
        assert all(isinstance(a, Answer) for a in answers)
        assert [a.reservation for a in answers] == [line.reservation, Reservation(0, 0.0)]
        assert rows["c1"]["tokens_in"] == 7 and "c1" not in online
        assert budget._reserved_usd == pytest.approx(0.5)  # held for the first caller to settle
    else:
        assert all(isinstance(a, Online) and a.note["line_error"] == why for a in answers)
        assert online["c1"] == why and rows["c1"]["error"] == why
        assert budget._reserved_usd == pytest.approx(0.0)  # freed
    assert all(a.note["wave"] == 1 for a in answers)


@pytest.mark.parametrize(
    ("lines", "max_lines", "sizes"),
    [(0, 3, []), (3, 3, [3]), (7, 3, [3, 3, 1]), (4, 1, [1, 1, 1, 1])],
)
async def test_files_hold_at_most_the_providers_lines(
    monkeypatch: pytest.MonkeyPatch, lines: int, max_lines: int, sizes: list[int]
) -> None:
    import eightflow.gateway.batches as batches

    monkeypatch.setattr(batches, "MAX_LINES_PER_FILE", max_lines)
    loop = asyncio.get_running_loop()
    parts = split_into_files([_line(loop, 1) for _ in range(lines)])
    assert [len(part) for part in parts] == sizes


def test_only_the_local_provider_is_simulated() -> None:
    assert wave_lines.simulated({"model": "local/x"})
    assert not wave_lines.simulated({"model": "openai/gpt-4o-mini"})
