"""Attack: a batch's ``custom_id`` left out the API base, so an open batch submitted to one
endpoint was matched by a run against another, could not be polled there, was marked lost,
and its lines were silently re-sent online at full price."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from eightflow.batch.batch_api import BatchApiRunner
from eightflow.batch.waves import WaveRouter
from eightflow.gateway import batches
from eightflow.gateway.batches import BatchStatus, LineResult, custom_id_of
from eightflow.runtime.budget import Budget
from eightflow.store.ledger import Ledger
from eightflow.store.provider_batches import SubmittedBatch, batch_row, record_submitted

MODEL = "openai/gpt-4o-mini"
BASE_A = "http://127.0.0.1:4711/v1"
BASE_B = "http://127.0.0.1:4712/v1"
BODY = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}  # fmt: skip


def _request(api_base: str | None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Summarise the harbour report."}],
        "api_key": "sk-test-0123456789abcdef",
    }
    if api_base:
        request["api_base"] = api_base
    return request


@pytest.mark.parametrize(
    ("one", "other"),
    [(BASE_A, BASE_B), (None, BASE_A), (BASE_A, "http://127.0.0.1:4711/v2")],
)
def test_the_same_request_to_another_endpoint_has_another_id(
    one: str | None, other: str | None
) -> None:
    assert custom_id_of(_request(one), "s") != custom_id_of(_request(other), "s")
    assert custom_id_of(_request(one), "s") == custom_id_of(_request(one), "s")  # stable
    assert len(custom_id_of(_request(one), "s")) <= 64  # providers' custom_id limit


class FakeBackend:
    """A provider Batch API that answers its own batches and cannot see any other."""

    provider = "openai"

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.submitted: list[list[str]] = []
        self.polled: list[str] = []

    async def submit(self, lines: list[tuple[str, dict[str, Any]]], _meta: Any) -> tuple[str, str]:
        self.submitted.append([cid for cid, _ in lines])
        batch_id = f"batch-{len(self.submitted)}"
        self.known.add(batch_id)
        self.lines = [cid for cid, _ in lines]
        return batch_id, "file-1"

    async def status(self, batch_id: str) -> BatchStatus:
        self.polled.append(batch_id)
        if batch_id not in self.known:
            raise RuntimeError(f"404 no such batch {batch_id}")
        return BatchStatus(state="completed", batch_id=batch_id, total=1, completed=1)

    async def results(self, status: BatchStatus) -> dict[str, LineResult]:
        return {cid: LineResult(cid, body=dict(BODY)) for cid in self.lines}


async def _one_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_batch_base: str, run_base: str
) -> tuple[WaveRouter, FakeBackend, Any]:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    earlier = custom_id_of(_request(open_batch_base), "?")
    record_submitted(
        ledger,
        SubmittedBatch("batch-elsewhere", "openai", MODEL, "file-0", 1, 1, "run-0", "w",
                       {earlier: [("doc.txt", "?")]}),
        "in_progress",
    )  # fmt: skip
    backend = FakeBackend(known=set())  # the endpoint of this run never saw batch-elsewhere
    monkeypatch.setattr(batches, "backend_for", lambda *a, **k: backend)
    router = WaveRouter(Budget(), workflow="w", run_key="run-1", poll_s=0.01, ledger=ledger)
    router.enter_document()
    serving = asyncio.create_task(router.serve())
    answer = await router.route(_request(run_base), MODEL)
    router.leave_document()
    router.close()
    await serving
    return router, backend, answer


async def test_an_open_batch_of_another_endpoint_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    router, backend, answer = await _one_call(tmp_path, monkeypatch, BASE_A, BASE_B)
    assert backend.polled == ["batch-1"]  # never batch-elsewhere
    assert len(backend.submitted) == 1 and answer is not None  # answered by its own batch
    assert router.lost == []
    row = batch_row(router.ledger, "batch-elsewhere")
    assert row is not None and row["state"] == "in_progress"  # not marked lost


async def test_a_batch_that_cannot_be_polled_is_a_line_in_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Same endpoint, but the provider no longer has the batch: its lines go online, said.
    router, backend, answer = await _one_call(tmp_path, monkeypatch, BASE_A, BASE_A)
    assert backend.polled == ["batch-elsewhere"] and backend.submitted == []
    assert answer is None  # "send it online"
    summary = BatchApiRunner.cost_comparison(SimpleNamespace(router=router))  # type: ignore[arg-type]
    assert summary["lost_batches"] == [
        {
            "batch_id": "batch-elsewhere",
            "lines": 1,
            "why": "earlier batch unavailable: RuntimeError",
            "resent_online": True,
        }
    ]
    assert summary["online_retries"] == 1
