"""The front door sends a request again when the Prefect server answered that its database
was busy (a 503 whose transaction rolled back), so a reviewer's Resume in the UI does not
fail while a batch writes; and only requests that may go again do. Checked against a
stand-in server that answers 503 a given number of times.

(The runner role's rules at the door are attacked in tests/security/test_runner_role_policy.py;
the policy's table is in tests/server/test_busy_retry.py.)
"""

from __future__ import annotations

import base64
import gzip
from typing import Any

import httpx
import pytest

from eightflow.server import busy_retry, front_door
from eightflow.server.credentials import Credentials
from eightflow.server.front_door import FrontDoor
from tests.support.asgi import read_body

ADMIN_AUTH = "eightflow:" + "a" * 48
RUNNER_AUTH = "runner:" + "b" * 48
RUN = "0b9c6f1e-8d1a-4d3e-9a53-7f1f3c2b1a00"
RESUME = f"/api/flow_runs/{RUN}/resume"
BUSY = b'{"exception_message":"Service Unavailable"}'
DONE = b'{"status": "ACCEPT"}'
RESENDS = len(busy_retry.DELAYS)


def basic(token: str) -> str:
    return "Basic " + base64.b64encode(token.encode()).decode()


class BusyServer:
    """Answers 503 with ``body`` (and ``retry_after``, if given) ``busy`` times, then 201;
    records the bodies it was sent."""

    def __init__(
        self,
        busy: int,
        retry_after: str | None = None,
        body: bytes = BUSY,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.busy, self.retry_after, self.body = busy, retry_after, body
        self.headers = headers or []
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = await read_body(receive)
        self.bodies.append(body)
        if len(self.bodies) <= self.busy:
            headers = [(b"content-type", b"application/json"), *self.headers]
            if self.retry_after is not None:
                headers.append((b"retry-after", self.retry_after.encode()))
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": self.body})
            return
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": DONE})


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between sends, recorded instead of slept."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(front_door.asyncio, "sleep", record)
    return waits


async def through_door(
    server: BusyServer,
    credential: str = ADMIN_AUTH,
    *,
    method: str = "POST",
    path: str = RESUME,
    sqlite: bool = True,
) -> httpx.Response:
    app = FrontDoor(
        "http://prefect.internal", Credentials(ADMIN_AUTH, RUNNER_AUTH), resend_busy_writes=sqlite
    )
    app._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=server))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://door"
    ) as client:
        form = {"run_input": {"decision": "approve", "reviewer": "ana"}}
        body = form if method == "POST" else None
        return await client.request(
            method, path, json=body, headers={"Authorization": basic(credential)}
        )


@pytest.mark.parametrize("credential", [ADMIN_AUTH, RUNNER_AUTH])
@pytest.mark.parametrize(
    ("busy", "status", "sent"),
    [
        (0, 201, 1),  # not busy: one request, no wait
        (1, 201, 2),  # busy once: sent again, the browser sees the answer
        (RESENDS, 201, RESENDS + 1),  # busy as often as the door resends: still answered
        (RESENDS + 1, 503, RESENDS + 1),  # busy for longer: the 503 reaches the browser
    ],
)
async def test_a_busy_server_is_asked_again_with_the_same_request(
    slept: list[float], credential: str, busy: int, status: int, sent: int
) -> None:
    server = BusyServer(busy)
    answer = await through_door(server, credential)
    assert answer.status_code == status
    assert answer.content == (BUSY if status == 503 else DONE)
    assert len(server.bodies) == sent
    assert len(set(server.bodies)) == 1  # the same body each time (a runner's, as cleaned)
    assert slept == list(busy_retry.DELAYS[: sent - 1])


@pytest.mark.parametrize(
    ("method", "path", "sqlite", "body", "sent"),
    [
        ("POST", RESUME, True, BUSY, 2),  # SQLite: the write rolled back, sent again
        ("POST", RESUME, False, BUSY, 1),  # PostgreSQL: it may have landed, not sent again
        ("POST", "/api/flow_runs/filter", False, BUSY, 2),  # a read, whatever the database
        ("GET", f"/api/flow_runs/{RUN}", False, BUSY, 2),
        ("GET", "/api/ready", True, BUSY, 1),  # a probe wants the answer now
        ("POST", RESUME, True, b'{"detail": "not paused"}', 1),  # some other 503
        ("POST", RESUME, True, b"<html>503</html>", 1),
    ],
)
async def test_only_a_request_that_may_go_again_goes_again(
    slept: list[float], method: str, path: str, sqlite: bool, body: bytes, sent: int
) -> None:
    server = BusyServer(1, body=body)
    answer = await through_door(server, method=method, path=path, sqlite=sqlite)
    assert len(server.bodies) == sent
    if sent == 1:  # the server's 503 reaches the browser as it was
        assert (answer.status_code, answer.content) == (503, body)
    else:
        assert answer.status_code == 201


@pytest.mark.parametrize(
    ("retry_after", "waits"),
    [
        ("3", [3.0]),  # the server's word
        ("0.5", [0.5]),
        ("-1", [0.0]),
        ("nan", [busy_retry.DELAYS[0]]),  # nonsense: the door's own back-off
        ("inf", [busy_retry.DELAYS[0]]),
        ("Wed, 21 Oct 2026 07:28:00 GMT", [busy_retry.DELAYS[0]]),
    ],
)
async def test_a_busy_servers_retry_after_sets_the_wait(
    slept: list[float], retry_after: str, waits: list[float]
) -> None:
    answer = await through_door(BusyServer(1, retry_after))
    assert answer.status_code == 201
    assert slept == waits


async def test_the_waits_stop_before_the_browser_has_waited_too_long(slept: list[float]) -> None:
    server = BusyServer(100, retry_after="600")  # capped, and the waits add up
    answer = await through_door(server)
    assert answer.status_code == 503
    assert slept == [busy_retry.MAX_RETRY_AFTER] * int(
        busy_retry.WITHIN_S // busy_retry.MAX_RETRY_AFTER
    )
    assert sum(slept) <= busy_retry.WITHIN_S


@pytest.mark.parametrize("body", [BUSY, b'{"detail": "' + b"x" * 600 + b'"}'])
async def test_a_503_read_to_look_at_is_relayed_as_the_server_sent_it(
    slept: list[float], body: bytes
) -> None:
    """Prefect's API compresses answers of 500 bytes or more for a browser that accepts gzip:
    the door looks at a 503's body and relays the bytes it was sent, with their encoding.
    (A compressed body is never Prefect's short busy answer: not sent again.)"""
    server = BusyServer(1, body=gzip.compress(body), headers=[(b"content-encoding", b"gzip")])
    answer = await through_door(server)
    assert len(server.bodies) == 1
    assert answer.status_code == 503
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.content == body  # httpx undoes the gzip the door relayed
