"""The stub's fault matrix: each fault as a client sees it on the wire, and an outage."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from eightflow.testing import StubConfig, StubServer


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer(StubConfig(retry_after_s=None)) as server:
        yield server


def post(base: str) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(trust_env=False, timeout=5.0) as client:
        return client.post(base + "/chat/completions", json=body)


@pytest.mark.parametrize(
    ("kind", "status", "retry_after"),
    [
        ("429", 429, None),
        ("429-retry-after", 429, "1"),
        ("500", 500, None),
        ("503", 503, None),
    ],
)
def test_status_faults(stub: StubServer, kind: str, status: int, retry_after: str | None) -> None:
    stub.configure(status_script=[kind])
    response = post(stub.url)
    assert response.status_code == status
    assert response.headers.get("retry-after") == retry_after
    assert stub.stats()["by_outcome"][kind] == 1


def test_reset_drops_the_connection_without_an_answer(stub: StubServer) -> None:
    stub.configure(status_script=["reset"])
    with pytest.raises(httpx.TransportError):
        post(stub.url)
    assert stub.stats()["by_outcome"]["reset"] == 1
    assert post(stub.url).status_code == 200  # the next request is answered


def test_schema_fault_answers_outside_the_requested_schema(stub: StubServer) -> None:
    stub.configure(status_script=["schema"])
    response = post(stub.url)
    assert response.status_code == 200
    assert "unexpected" in response.json()["choices"][0]["message"]["content"]


def test_an_outage_fails_everything_until_it_is_over(stub: StubServer) -> None:
    stub.configure(outage_s=3600, outage_kind="503", error_rate=0.0)
    assert [post(stub.url).status_code for _ in range(5)] == [503] * 5
    stub.configure(outage_s=0)  # over: the server has recovered
    assert post(stub.url).status_code == 200
    assert stub.stats()["by_outcome"]["503"] == 5
