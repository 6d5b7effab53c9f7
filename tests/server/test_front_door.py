"""The front door resends a request the Prefect server answered 503 (its database was busy
and the transaction rolled back), so a reviewer's Resume in the UI does not fail while a batch
writes. Checked against a stand-in server that answers 503 a given number of times.

(The runner role's rules at the door are attacked in tests/security/test_runner_role_policy.py.)
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from eightflow.server import front_door
from eightflow.server.credentials import Credentials
from eightflow.server.front_door import FrontDoor

ADMIN_AUTH = "eightflow:" + "a" * 48
RUNNER_AUTH = "runner:" + "b" * 48
RUN = "0b9c6f1e-8d1a-4d3e-9a53-7f1f3c2b1a00"
BUSY = b'{"exception_message":"Service Unavailable"}'


def basic(token: str) -> str:
    return "Basic " + base64.b64encode(token.encode()).decode()


class BusyServer:
    """Answers 503 (with ``retry_after``, if given) ``busy`` times, then 201; records bodies."""

    def __init__(self, busy: int, retry_after: str | None = None) -> None:
        self.busy = busy
        self.retry_after = retry_after
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        if len(self.bodies) <= self.busy:
            headers = [(b"content-type", b"application/json")]
            if self.retry_after is not None:
                headers.append((b"retry-after", self.retry_after.encode()))
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": BUSY})
            return
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b'{"status": "ACCEPT"}'})


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between resends, recorded instead of slept."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(front_door.asyncio, "sleep", record)
    return waits


async def resume_through_door(server: BusyServer, credential: str) -> httpx.Response:
    app = FrontDoor("http://prefect.internal", Credentials(ADMIN_AUTH, RUNNER_AUTH))
    app._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=server))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://door"
    ) as client:
        return await client.post(
            f"/api/flow_runs/{RUN}/resume",
            json={"run_input": {"decision": "approve", "reviewer": "ana"}},
            headers={"Authorization": basic(credential)},
        )


RETRIES = len(front_door.BUSY_RETRY_DELAYS)


@pytest.mark.parametrize("credential", [ADMIN_AUTH, RUNNER_AUTH])
@pytest.mark.parametrize(
    ("busy", "status", "sent"),
    [
        (0, 201, 1),  # not busy: one request, no wait
        (1, 201, 2),  # busy once: sent again, the browser sees the answer
        (RETRIES, 201, RETRIES + 1),  # busy as often as the door resends: still answered
        (RETRIES + 1, 503, RETRIES + 1),  # busy for longer: the 503 reaches the browser
    ],
)
async def test_a_busy_server_is_asked_again_with_the_same_request(
    slept: list[float], credential: str, busy: int, status: int, sent: int
) -> None:
    server = BusyServer(busy)
    answer = await resume_through_door(server, credential)
    assert answer.status_code == status
    assert answer.content == (BUSY if status == 503 else b'{"status": "ACCEPT"}')
    assert len(server.bodies) == sent
    assert len(set(server.bodies)) == 1  # the same body each time (a runner's, as cleaned)
    assert slept == list(front_door.BUSY_RETRY_DELAYS[: sent - 1])


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        ("3", 3.0),  # the server's word
        ("0.5", 0.5),
        ("600", front_door.MAX_RETRY_AFTER),  # capped: a browser is waiting
        ("-1", 0.0),
        ("nan", front_door.BUSY_RETRY_DELAYS[0]),  # nonsense: the door's own back-off
        ("inf", front_door.BUSY_RETRY_DELAYS[0]),
        ("Wed, 21 Oct 2026 07:28:00 GMT", front_door.BUSY_RETRY_DELAYS[0]),
    ],
)
async def test_a_busy_servers_retry_after_sets_the_wait(
    slept: list[float], retry_after: str, wait: float
) -> None:
    answer = await resume_through_door(BusyServer(1, retry_after), ADMIN_AUTH)
    assert answer.status_code == 201
    assert slept == [wait]
