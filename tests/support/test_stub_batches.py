"""The stub's Files + Batches endpoints, driven by litellm's own file and batch functions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import StubConfig, StubServer
from tests.support.stub_server import http_json


@pytest.fixture
def stub() -> Iterator[StubServer]:
    import litellm

    # litellm keeps its HTTP clients between calls; one made in an earlier test's event loop
    # (closed now) once left a call here waiting for 300 s. Each test starts with none.
    litellm.in_memory_llm_clients_cache.flush_cache()
    with StubServer(StubConfig()) as server:
        yield server
    litellm.in_memory_llm_clients_cache.flush_cache()


def line(custom_id: str, text: str) -> dict[str, Any]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


async def run_batch(stub: StubServer, lines: list[dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    import litellm

    kw = {
        "custom_llm_provider": "openai",
        "api_base": stub.api_base,
        "api_key": "sk-stub",
        "timeout": 30,  # a lost answer fails this test in seconds, not at the 300 s guard
    }
    jsonl = "".join(json.dumps(x) + "\n" for x in lines).encode()
    uploaded = await litellm.acreate_file(file=("in.jsonl", jsonl), purpose="batch", **kw)
    batch = await litellm.acreate_batch(
        completion_window="24h",
        endpoint="/v1/chat/completions",
        input_file_id=uploaded.id,
        **kw,
    )
    assert batch.status == "validating" and isinstance(batch.created_at, int)
    seen = {batch.status}
    for _ in range(400):
        batch = await litellm.aretrieve_batch(batch_id=batch.id, **kw)
        seen.add(batch.status)
        if batch.status == "completed":
            break
        await asyncio.sleep(0.02)
    answers: dict[str, Any] = {}
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id:
            content = await litellm.afile_content(file_id=file_id, **kw)
            for raw in content.content.decode().splitlines():
                record = json.loads(raw)
                answers[record["custom_id"]] = record
    return batch, {"answers": answers, "seen": seen}


async def test_lines_are_answered_like_chat_calls(stub: StubServer) -> None:
    batch, got = await run_batch(stub, [line("a", "first"), line("b", "second")])
    assert batch.request_counts.completed == 2 and batch.request_counts.failed == 0
    a = got["answers"]["a"]
    assert a["error"] is None and a["response"]["status_code"] == 200
    assert a["response"]["body"]["choices"][0]["message"]["content"] == "stub: first"
    assert stub.stats()["calls"] == 2  # each line went through the chat endpoint


@pytest.mark.parametrize(
    ("failure", "code"), [("error", "server_error"), ("expired", "batch_expired")]
)
async def test_injected_line_failures(stub: StubServer, failure: str, code: str) -> None:
    http_json(
        "POST",
        stub.url + "/_stub/batches/config",
        {"fail_first_n_lines": 1, "line_failure": failure},
    )
    batch, got = await run_batch(stub, [line("a", "first"), line("b", "second")])
    assert batch.request_counts.failed == 1 and batch.request_counts.completed == 1
    assert got["answers"]["a"]["error"]["code"] == code
    assert got["answers"]["b"]["error"] is None
    assert batch.error_file_id and batch.output_file_id


async def test_completion_delay_holds_the_batch_in_progress(stub: StubServer) -> None:
    http_json("POST", stub.url + "/_stub/batches/config", {"completion_delay_s": 0.5})
    _, got = await run_batch(stub, [line("a", "first")])
    assert "in_progress" in got["seen"]
    stats = http_json("GET", stub.url + "/_stub/batches/stats")
    assert stats["batches_created"] == 1 and stats["files_created"] == 1
    assert stats["lines_submitted"] == 1 and stats["batches_by_status"] == {"completed": 1}


def test_bad_config_is_rejected(stub: StubServer) -> None:
    from tests.support.stub_server import StubControlError

    with pytest.raises(StubControlError):
        http_json("POST", stub.url + "/_stub/batches/config", {"line_failure": "sometimes"})
