"""Tests of the OpenAI-compatible stub server (tests.support).

Everything is offline: servers bind 127.0.0.1, every server and child process a test
starts is stopped by the test (context managers), and litellm reads its bundled cost map.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import jsonschema
import pytest
from pydantic import BaseModel, Field, ValidationError

from tests.support import (
    StubConfig,
    StubControlError,
    StubServer,
    StubStartError,
    start_stub_process,
)
from tests.support.schema_instance import SchemaInstanceError, instance_for_schema

REPO_ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------
# helpers and fixtures


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # trust_env=False: a proxy configured in the environment must not see 127.0.0.1.
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        yield http


def chat_body(text: str = "hello world", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}


def post_chat(client: httpx.Client, base: str, text: str = "hello", **extra: Any) -> httpx.Response:
    return client.post(base + "/chat/completions", json=chat_body(text, **extra))


def outcome_of(response: httpx.Response) -> int | str:
    """200/429/500/503, or "malformed" for a 200 whose body is not a chat completion."""
    if response.status_code != 200:
        return response.status_code
    try:
        response.json()["choices"]
    except (ValueError, KeyError):
        return "malformed"
    return 200


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def import_litellm() -> Any:
    # Must happen before the first import of litellm, or it fetches the cost map online.
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    litellm.suppress_debug_info = True
    return litellm


# ---------------------------------------------------------------------------------------
# models whose JSON schemas the stub must answer


class Sentiment(StrEnum):
    positive = "positive"
    negative = "negative"
    neutral = "neutral"


class Entity(BaseModel):
    name: str
    kind: Literal["person", "organisation", "place"]
    salience: float = Field(ge=0, le=1)


class Section(BaseModel):
    title: str = Field(min_length=12, max_length=40)
    page: int = Field(ge=1, le=500)
    tags: list[str]


class Node(BaseModel):
    label: str
    children: list[Node] = Field(default_factory=list)


class Analysis(BaseModel):
    summary: str
    sentiment: Sentiment
    score: float = Field(gt=-1, lt=1)
    confidence: Annotated[int, Field(ge=0, le=100, multiple_of=5)]
    entities: list[Entity]
    sections: list[Section] = Field(min_length=3)
    author: str | None = None
    reviewer: Entity | None = None
    published: dt.date | None
    updated_at: dt.datetime
    keywords: set[str]
    counts: dict[str, int]
    pair: tuple[int, str]
    ref: uuid.UUID
    tree: Node


class Flat(BaseModel):
    title: str
    ok: bool
    rating: Literal[1, 2, 3]


def response_format_for(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": model.__name__, "schema": model.model_json_schema()},
    }


# ---------------------------------------------------------------------------------------
# answers


def test_plain_request_gets_chat_completion_with_usage(
    stub: StubServer, client: httpx.Client
) -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "abcd"},
            {"role": "user", "content": [{"type": "text", "text": "hello world!"}]},
        ],
    }
    response = client.post(stub.api_base + "/chat/completions", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "gpt-4o-mini"
    assert data["id"] and isinstance(data["created"], int)
    (choice,) = data["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"] == {"role": "assistant", "content": "stub: hello world!"}
    # 4 + 12 prompt chars -> 4 tokens; 18 content chars -> 5 tokens.
    assert data["usage"] == {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9}


def test_model_is_echoed_and_path_without_v1_is_accepted(
    stub: StubServer, client: httpx.Client
) -> None:
    response = client.post(stub.url + "/chat/completions", json={**chat_body(), "model": "m-x"})
    assert response.status_code == 200
    assert response.json()["model"] == "m-x"
    assert stub.stats()["by_model"] == {"m-x": 1}


def test_text_content_is_deterministic_and_truncated(
    stub: StubServer, client: httpx.Client
) -> None:
    long_text = "x" * 30 + "y" * 100
    first = post_chat(client, stub.api_base, long_text).json()["choices"][0]["message"]
    second = post_chat(client, stub.api_base, long_text).json()["choices"][0]["message"]
    assert first == second
    assert first["content"] == "stub: " + long_text[:60]


def test_fixed_tokens_and_content() -> None:
    config = StubConfig(prompt_tokens=111, completion_tokens=7, content="fixed answer")
    with StubServer(config) as stub, httpx.Client(trust_env=False) as client:
        data = post_chat(client, stub.api_base, "anything").json()
    assert data["choices"][0]["message"]["content"] == "fixed answer"
    assert data["usage"] == {"prompt_tokens": 111, "completion_tokens": 7, "total_tokens": 118}


@pytest.mark.parametrize("model", [Analysis, Node, Flat], ids=lambda m: m.__name__)
def test_json_schema_answer_validates(
    stub: StubServer, client: httpx.Client, model: type[BaseModel]
) -> None:
    rf = response_format_for(model)
    response = post_chat(client, stub.api_base, "a document", response_format=rf)
    assert response.status_code == 200
    content = response.json()["choices"][0]["message"]["content"]
    model.model_validate_json(content)
    jsonschema.validate(json.loads(content), model.model_json_schema())


def test_json_schema_answer_depends_on_document(stub: StubServer, client: httpx.Client) -> None:
    rf = response_format_for(Analysis)

    def answer(text: str) -> str:
        message = post_chat(client, stub.api_base, text, response_format=rf).json()
        return str(message["choices"][0]["message"]["content"])

    doc_a, doc_b = answer("document A"), answer("document B")
    assert doc_a != doc_b
    assert answer("document A") == doc_a
    assert (
        Analysis.model_validate_json(doc_a).summary != Analysis.model_validate_json(doc_b).summary
    )


def test_flat_json_schema_response_format_is_accepted(
    stub: StubServer, client: httpx.Client
) -> None:
    rf = {"type": "json_schema", "schema": Flat.model_json_schema()}
    content = post_chat(client, stub.api_base, response_format=rf).json()["choices"][0]
    Flat.model_validate_json(content["message"]["content"])


def test_json_object_answer(stub: StubServer, client: httpx.Client) -> None:
    response = post_chat(client, stub.api_base, response_format={"type": "json_object"})
    assert isinstance(json.loads(response.json()["choices"][0]["message"]["content"]), dict)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (chat_body(stream=True), "stream"),
        ("not json", "invalid JSON"),
        (
            chat_body(response_format={"type": "json_schema", "schema": {"$ref": "http://x/s"}}),
            "$ref",
        ),
    ],
    ids=["stream", "bad-json", "remote-ref"],
)
def test_bad_requests_get_400(
    stub: StubServer, client: httpx.Client, body: Any, fragment: str
) -> None:
    if isinstance(body, str):
        response = client.post(stub.api_base + "/chat/completions", content=body)
    else:
        response = client.post(stub.api_base + "/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert fragment in error["message"]
    assert stub.stats()["by_outcome"]["bad_request"] == 1


def test_models_and_health(stub: StubServer, client: httpx.Client) -> None:
    models = client.get(stub.api_base + "/models").json()
    assert models["object"] == "list"
    assert [m["id"] for m in models["data"]] == ["gpt-4o-mini"]
    assert client.get(stub.url + "/health").json() == {"status": "ok"}


# ---------------------------------------------------------------------------------------
# the schema-instance generator on its own


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "minimum": 5, "maximum": 5},
        {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2},
        {"type": "integer", "minimum": 3, "multipleOf": 7},
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1e-3},
        {"type": "number", "maximum": -10},
        {"type": "string", "minLength": 80},
        {"type": "string", "maxLength": 2},
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "email"},
        {"type": "string", "enum": ["a", "b"]},
        {"const": {"k": [1, 2]}},
        {"type": ["null", "boolean"]},
        {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]},
        {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        {
            "allOf": [{"$ref": "#/$defs/A"}, {"properties": {"b": {"type": "integer"}}}],
            "$defs": {
                "A": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
            },
        },
        {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4},
        {"type": "array", "items": {"type": "boolean"}, "uniqueItems": True, "maxItems": 2},
        {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
        {"type": "object", "additionalProperties": {"type": "number"}},
        {"type": "null"},
        {},
    ],
)
def test_instance_for_schema_is_valid(schema: dict[str, Any]) -> None:
    for seed in ("one", "two", "three"):
        jsonschema.validate(instance_for_schema(schema, seed), schema)


def test_instance_for_recursive_schema_terminates() -> None:
    schema = {
        "$defs": {
            "T": {
                "type": "object",
                "properties": {"next": {"anyOf": [{"$ref": "#/$defs/T"}, {"type": "null"}]}},
                "required": ["next"],
            }
        },
        "$ref": "#/$defs/T",
    }
    value = instance_for_schema(schema, "seed")
    depth = 0
    while value is not None:
        value, depth = value["next"], depth + 1
    assert 1 < depth < 50


def test_instance_for_schema_rejects_remote_ref() -> None:
    with pytest.raises(SchemaInstanceError):
        instance_for_schema({"$ref": "https://example.com/schema.json"})


# ---------------------------------------------------------------------------------------
# fault injection


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ([429, 429, 200], [429, 429, 200, 200]),
        (["500", "ok", 503], [500, 200, 503, 200]),
        ([200, "malformed"], [200, "malformed", 200]),
    ],
)
def test_status_script(script: list[int | str], expected: list[int | str]) -> None:
    with (
        StubServer(StubConfig(status_script=script)) as stub,
        httpx.Client(trust_env=False) as client,
    ):
        got = [outcome_of(post_chat(client, stub.api_base)) for _ in expected]
    assert got == expected


def test_error_bodies_look_like_openai(client: httpx.Client) -> None:
    with StubServer(StubConfig(status_script=[429, 500, 503], retry_after_s=1.5)) as stub:
        rate, server, unavailable = (post_chat(client, stub.api_base) for _ in range(3))
    assert rate.json()["error"]["type"] == "rate_limit_exceeded"
    assert rate.json()["error"]["code"] == "rate_limit_exceeded"
    assert rate.headers["retry-after"] == "1.5"
    assert server.json()["error"]["type"] == "server_error"
    assert unavailable.json()["error"]["code"] == "service_unavailable"
    assert all(isinstance(r.json()["error"]["message"], str) for r in (rate, server))


def test_fail_first_n_uses_first_error_kind(client: httpx.Client) -> None:
    with StubServer(StubConfig(fail_first_n=2, error_kinds=["503", "429"])) as stub:
        got = [outcome_of(post_chat(client, stub.api_base)) for _ in range(4)]
    assert got == [503, 503, 200, 200]


def run_error_rate(client: httpx.Client, stub: StubServer, calls: int = 100) -> list[int | str]:
    return [outcome_of(post_chat(client, stub.api_base, f"doc {i}")) for i in range(calls)]


def test_error_rate_is_seeded_and_deterministic(client: httpx.Client) -> None:
    with StubServer(StubConfig(error_rate=0.3, seed=1)) as stub:
        first = run_error_rate(client, stub)
        stats = stub.stats()
        stub.reset()
        second = run_error_rate(client, stub)
        stub.configure(seed=2)
        other_seed = run_error_rate(client, stub)
    failures = [o for o in first if o != 200]
    assert first == second
    assert first != other_seed
    assert 15 <= len(failures) <= 45
    assert stats["by_outcome"]["429"] + stats["by_outcome"]["500"] == len(failures)
    # round-robin over the kinds: 429, 500, 429, 500, ...
    assert failures == [[429, 500][i % 2] for i in range(len(failures))]


def test_malformed_body_does_not_parse(client: httpx.Client) -> None:
    with StubServer(StubConfig(error_rate=1.0, error_kinds=["malformed"])) as stub:
        response = post_chat(client, stub.api_base)
        assert stub.stats()["by_outcome"]["malformed"] == 1
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


@pytest.mark.timeout(120)  # if stop() waited for the hour-long stall, this fails here
def test_timeout_fault_hangs_until_client_gives_up_and_stop_is_prompt() -> None:
    stub = StubServer(StubConfig(status_script=["timeout"], timeout_hang_s=3600)).start()
    try:
        with httpx.Client(trust_env=False, timeout=0.3) as client:
            with pytest.raises(httpx.ReadTimeout):
                post_chat(client, stub.api_base)
            assert stub.stats()["by_outcome"]["timeout"] == 1
            assert outcome_of(post_chat(client, stub.api_base)) == 200  # script exhausted
    finally:
        stub.stop()


def test_timeout_fault_answers_a_patient_client(client: httpx.Client) -> None:
    with StubServer(StubConfig(status_script=["timeout"], timeout_hang_s=0.2)) as stub:
        started = time.monotonic()
        response = post_chat(client, stub.api_base)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.18  # a lower bound: load cannot make it fail


def test_latency_is_applied(client: httpx.Client) -> None:
    with StubServer(StubConfig(latency_ms=150, latency_jitter_ms=20)) as stub:
        post_chat(client, stub.api_base)  # warm the connection
        started = time.monotonic()
        post_chat(client, stub.api_base)
    assert time.monotonic() - started >= 0.12


def test_in_flight_concurrency_with_latency() -> None:
    async def burst(stub: StubServer, n: int) -> list[int]:
        limits = httpx.Limits(max_connections=n)
        async with httpx.AsyncClient(trust_env=False, limits=limits, timeout=30) as client:
            responses = await asyncio.gather(
                *(
                    client.post(stub.api_base + "/chat/completions", json=chat_body(f"d{i}"))
                    for i in range(n)
                )
            )
        return [r.status_code for r in responses]

    # 100 calls held 300 ms each: a serialised stub would take 30 s and never hold two.
    with StubServer(StubConfig(latency_ms=300)) as stub:
        statuses = asyncio.run(burst(stub, 100))
        stats = stub.stats()
    assert statuses == [200] * 100
    assert stats["calls"] == 100
    assert stats["max_in_flight"] >= 50  # latency overlapped, not serialised


# ---------------------------------------------------------------------------------------
# stats, reset, config and history over HTTP


def test_stats_and_reset_endpoints(stub: StubServer, client: httpx.Client) -> None:
    post_chat(client, stub.api_base, "alpha")
    post_chat(client, stub.api_base, "alpha")
    post_chat(client, stub.api_base, "beta")
    stats = client.get(stub.url + "/_stub/stats").json()
    assert stats == stub.stats()
    assert stats["calls"] == 3
    assert stats["by_model"] == {"gpt-4o-mini": 3}
    assert stats["by_outcome"]["ok"] == 3
    assert stats["requests_by_digest"] == {digest_of("alpha"): 2, digest_of("beta"): 1}
    assert stats["usage"]["prompt_tokens"] == 2 + 2 + 1  # ceil(chars / 4) per call
    assert stats["in_flight"] == 0

    assert client.post(stub.url + "/_stub/reset").json() == {"ok": True}
    after = client.get(stub.url + "/_stub/stats").json()
    assert after["calls"] == 0 and after["requests_by_digest"] == {}
    assert set(after["by_outcome"]) >= {"ok", "429", "500", "timeout", "malformed"}
    assert stub.history == []


def test_config_endpoint_updates_faults_at_run_time(stub: StubServer, client: httpx.Client) -> None:
    assert outcome_of(post_chat(client, stub.api_base)) == 200
    new = client.post(stub.url + "/_stub/config", json={"status_script": [429, 200]}).json()
    assert new["status_script"] == [429, 200]
    assert stub.config.status_script == [429, 200]
    got = [outcome_of(post_chat(client, stub.api_base)) for _ in range(3)]
    assert got == [429, 200, 200]
    assert client.get(stub.url + "/_stub/config").json()["status_script"] == [429, 200]


@pytest.mark.parametrize(
    "changes",
    [{"error_rate": 2}, {"error_kinds": ["418"]}, {"status_script": [302]}, {"nope": 1}],
)
def test_config_endpoint_rejects_invalid_changes(
    stub: StubServer, client: httpx.Client, changes: dict[str, Any]
) -> None:
    response = client.post(stub.url + "/_stub/config", json=changes)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_config"
    assert stub.config == StubConfig()


def test_configure_restarts_only_the_sequences_it_sets(
    stub: StubServer, client: httpx.Client
) -> None:
    def play(n: int) -> list[int | str]:
        return [outcome_of(post_chat(client, stub.api_base)) for _ in range(n)]

    stub.configure(status_script=[503], fail_first_n=1, error_kinds=["500"])
    assert play(3) == [503, 500, 200]  # script first, then fail_first_n, then success
    stub.configure(latency_ms=1)
    assert play(1) == [200]  # exhausted script and fail_first_n are not replayed
    stub.configure(fail_first_n=1)
    assert play(2) == [500, 200]
    stub.configure(status_script=["429"])
    assert play(2) == [429, 200]
    with pytest.raises(ValidationError):
        stub.config.latency_ms = 5  # type: ignore[misc]  # frozen: use configure()
    stub.reset()
    assert play(3) == [429, 500, 200]


def test_history_is_bounded_and_hides_credentials(client: httpx.Client) -> None:
    with StubServer(history_limit=3) as stub:
        for i in range(5):
            client.post(
                stub.api_base + "/chat/completions",
                json=chat_body(f"m{i}", response_format={"type": "json_object"}),
                headers={"Authorization": "Bearer sk-secret", "X-Trace": f"t{i}"},
            )
        history = stub.history
        over_http = client.get(stub.url + "/_stub/history", params={"limit": 2}).json()
    assert [h["messages"][0]["content"] for h in history] == ["m2", "m3", "m4"]
    assert over_http == json.loads(json.dumps(history[-2:]))
    entry = history[-1]
    assert entry["model"] == "gpt-4o-mini"
    assert entry["response_format"] is True
    assert entry["outcome"] == "ok"
    assert entry["headers"]["x-trace"] == "t4"
    assert "authorization" not in {k.lower() for k in entry["headers"]}


def test_port_in_use_is_reported(stub: StubServer) -> None:
    with pytest.raises(RuntimeError, match="failed to start"):
        StubServer(port=stub.port).start()


# ---------------------------------------------------------------------------------------
# through litellm, over real HTTP


def test_litellm_completion_reads_content_and_usage() -> None:
    litellm = import_litellm()
    with StubServer(StubConfig(prompt_tokens=42, completion_tokens=7)) as stub:
        response = litellm.completion(
            model="openai/gpt-4o-mini",
            api_base=stub.api_base,
            api_key="sk-stub",
            messages=[{"role": "user", "content": "Summarise this document."}],
            max_retries=0,
        )
        history = stub.history
    assert response.choices[0].message.content == "stub: Summarise this document."
    assert response.usage.prompt_tokens == 42
    assert response.usage.completion_tokens == 7
    assert response.usage.total_tokens == 49
    assert history[0]["model"] == "gpt-4o-mini"
    assert "authorization" not in history[0]["headers"]


def test_litellm_structured_output_validates() -> None:
    litellm = import_litellm()
    with StubServer() as stub:
        response = litellm.completion(
            model="openai/gpt-4o-mini",
            api_base=stub.api_base,
            api_key="sk-stub",
            messages=[{"role": "user", "content": "Analyse: the quarterly report."}],
            response_format=Analysis,
            max_retries=0,
        )
        assert stub.history[0]["response_format_type"] == "json_schema"
    Analysis.model_validate_json(response.choices[0].message.content)


@pytest.mark.parametrize(
    ("kind", "exception"),
    [
        ("429", "RateLimitError"),
        ("500", "InternalServerError"),
        ("503", "ServiceUnavailableError"),
        ("timeout", "Timeout"),
        ("malformed", "InternalServerError"),  # litellm wraps the JSON error
    ],
)
def test_litellm_maps_faults_to_its_exceptions(kind: str, exception: str) -> None:
    litellm = import_litellm()
    config = StubConfig(status_script=[kind], timeout_hang_s=5)
    with StubServer(config) as stub, pytest.raises(getattr(litellm, exception)):
        litellm.completion(
            model="openai/gpt-4o-mini",
            api_base=stub.api_base,
            api_key="sk-stub",
            messages=[{"role": "user", "content": "hi"}],
            max_retries=0,
            timeout=0.5,
        )


async def test_litellm_acompletion_recovers_after_two_429s() -> None:
    litellm = import_litellm()
    with StubServer(StubConfig(status_script=[429, 429, 200])) as stub:
        outcomes: list[str] = []
        for _ in range(3):
            try:
                await litellm.acompletion(
                    model="openai/gpt-4o-mini",
                    api_base=stub.api_base,
                    api_key="sk-stub",
                    messages=[{"role": "user", "content": "hi"}],
                    max_retries=0,
                )
                outcomes.append("ok")
            except litellm.RateLimitError:
                outcomes.append("429")
        assert stub.stats()["by_outcome"]["429"] == 2
    assert outcomes == ["429", "429", "ok"]


# ---------------------------------------------------------------------------------------
# subprocess mode


def test_package_import_is_light() -> None:
    code = (
        "import sys, tests.support as t\n"
        "assert t.StubServer and t.StubConfig and t.start_stub_process and t.StubProcess\n"
        "bad = [m for m in ('litellm', 'prefect') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.e2e
def test_stub_process_answers_reports_and_stops() -> None:
    config = StubConfig(status_script=[429], prompt_tokens=3, completion_tokens=2)
    with start_stub_process(config) as proc, httpx.Client(trust_env=False) as client:
        assert proc.is_running()
        assert proc.api_base == proc.url + "/v1"
        assert [outcome_of(post_chat(client, proc.api_base)) for _ in range(2)] == [429, 200]
        stats = proc.stats()
        assert stats["calls"] == 2
        assert stats["by_outcome"]["429"] == 1 and stats["by_outcome"]["ok"] == 1
        assert stats["usage"] == {"prompt_tokens": 3, "completion_tokens": 2}
        assert proc.history()[-1]["outcome"] == "ok"

        assert proc.configure(fail_first_n=1, error_kinds=["500"]).fail_first_n == 1
        assert outcome_of(post_chat(client, proc.api_base)) == 500
        with pytest.raises(StubControlError):
            proc.configure(error_rate=5)
        proc.reset()
        assert proc.stats()["calls"] == 0
        process = proc.process
    assert process.returncode == 0  # SIGTERM handled cleanly
    with pytest.raises(httpx.ConnectError), httpx.Client(trust_env=False) as client:
        client.get(proc.url + "/health")


@pytest.mark.e2e
def test_stub_process_reports_startup_failure(stub: StubServer) -> None:
    with pytest.raises(StubStartError, match="exited with code"):
        start_stub_process(port=stub.port)


@pytest.mark.e2e
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_ready_and_stops_on_signal(sig: signal.Signals) -> None:
    command = [
        sys.executable, "-m", "tests.support.stub_server", "--port", "0",
        "--latency-ms", "5", "--error-rate", "0.3", "--error-kinds", "429,500,timeout,malformed",
        "--seed", "1", "--prompt-tokens", "9", "--completion-tokens", "4",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("READY http://127.0.0.1:"), line
        url = line.split()[1]
        config = httpx.get(url + "/_stub/config", trust_env=False).json()
        assert config["error_kinds"] == ["429", "500", "timeout", "malformed"]
        assert config["prompt_tokens"] == 9 and config["latency_ms"] == 5
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "RuntimeWarning" not in stderr


@pytest.mark.e2e
def test_cli_rejects_invalid_config() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.stub_server", "--error-rate", "7"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "error_rate" in result.stderr


@pytest.mark.e2e
def test_stub_process_exits_with_its_parent() -> None:
    """A harness that dies without stopping its stub leaves no stub behind."""
    code = textwrap.dedent(
        """
        import os
        from tests.support import start_stub_process
        proc = start_stub_process()
        print(proc.pid, proc.url, flush=True)
        os._exit(0)  # no atexit, no stop(): the crash case
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    pid_text, url = result.stdout.split()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/health", trust_env=False, timeout=0.5)
        except httpx.TransportError:
            break
        time.sleep(0.2)
    else:
        os.kill(int(pid_text), signal.SIGKILL)
        pytest.fail("stub process outlived its parent")


def test_a_tokens_per_window_budget_answers_429_past_it_with_rate_limit_headers() -> None:
    config = StubConfig(prompt_tokens=60, completion_tokens=40, tpm_limit=250, tpm_window_s=600)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    with StubServer(config) as stub:
        answers = [
            httpx.post(f"{stub.api_base}/chat/completions", json=body, timeout=10) for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-ratelimit-remaining-tokens"] for a in answers] == ["150", "50", "50"]
    assert answers[2].headers["x-ratelimit-limit-tokens"] == "250"
    assert answers[2].headers["x-ratelimit-reset-tokens"].endswith("s")
    assert stub.stats()["by_outcome"]["429"] == 1
