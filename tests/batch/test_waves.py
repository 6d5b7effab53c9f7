"""The wave router on its own: batch-rate reservations and failed submissions."""

from __future__ import annotations

from typing import Any

import pytest

MODEL = "openai/gpt-4o-mini"


async def test_reservation_uses_the_batch_price() -> None:
    import asyncio

    from eightflow.batch.wave_lines import Call, Line
    from eightflow.batch.waves import WaveRouter
    from eightflow.gateway import ModelGateway
    from eightflow.gateway.batches import batch_costs
    from eightflow.runtime.budget import Budget

    budget = Budget(max_cost_usd=1.0)
    router = WaveRouter(budget, workflow="w", run_key=None, ledger=object())
    request = {"model": MODEL, "messages": [{"role": "user", "content": "word " * 400}]}
    future = asyncio.get_running_loop().create_future()
    line = Line("c1", [Call("c1", request, MODEL, "d", "s", "r", future)])
    assert router._reserve(line)
    tokens = ModelGateway().count_tokens("word " * 400, MODEL)
    batch, online = batch_costs(MODEL, tokens, 0)
    assert line.reservation.cost_usd == pytest.approx(batch) and batch == pytest.approx(online / 2)


async def test_a_failed_submission_fails_its_callers_and_frees_their_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    import eightflow.gateway.batches as batches
    from eightflow.batch.waves import WaveRouter
    from eightflow.runtime.budget import Budget

    class Refusing:
        provider = "openai"

        async def submit(self, lines: Any, metadata: Any) -> tuple[str, str]:
            raise RuntimeError("provider said no")

    monkeypatch.setattr(batches, "backend_for", lambda *args: Refusing())
    budget = Budget(max_cost_usd=1.0)
    router = WaveRouter(budget, workflow="w", run_key=None, ledger=_EmptyLedger())
    serving = asyncio.create_task(router.serve())
    router.enter_document()
    request = {"model": MODEL, "messages": [{"role": "user", "content": "hello " * 50}]}
    with pytest.raises(RuntimeError, match="provider said no"):
        await router.route(request, MODEL)
    assert budget._reserved_usd == pytest.approx(0.0) and budget.spent_usd == 0.0
    router.leave_document()
    router.close()
    await asyncio.wait_for(serving, 10)


class _EmptyLedger:
    """A ledger with no provider batches in it (live_batch_for finds nothing)."""

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return []
