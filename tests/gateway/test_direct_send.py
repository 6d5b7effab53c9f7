"""A request sent straight to the transport answers as the client's whole ``send`` would."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from eightflow.gateway import exchange
from eightflow.gateway.direct_send import can_send_direct, direct_send

URL = "http://127.0.0.1:9/v1/chat/completions"


def _answer(request: httpx.Request) -> httpx.Response:
    """A body still to be read, as a real transport answers."""
    body = json.dumps({"echo": request.content.decode(), "path": request.url.path}).encode()
    return httpx.Response(
        200,
        stream=httpx.ByteStream(body),
        headers={
            "content-type": "application/json",
            "set-cookie": "session=abc; Path=/",
            "x-ratelimit-remaining-requests": "9",
        },
    )


def _client(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> Any:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), **options)


class _OwnSend(httpx.AsyncClient):
    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        return await super().send(request, **kwargs)


async def _hook(_: object) -> None:
    return None


@pytest.mark.parametrize(
    ("make", "direct"),
    [
        pytest.param(lambda: _client(_answer), True, id="plain client"),
        pytest.param(lambda: _client(_answer, follow_redirects=True), True, id="follows redirects"),
        pytest.param(lambda: _client(_answer, auth=("u", "p")), False, id="client auth"),
        pytest.param(
            lambda: _client(_answer, event_hooks={"request": [_hook]}), False, id="request hook"
        ),
        pytest.param(
            lambda: _client(_answer, event_hooks={"response": [_hook]}), False, id="response hook"
        ),
        pytest.param(
            lambda: _OwnSend(transport=httpx.MockTransport(_answer)), False, id="its own send"
        ),
        pytest.param(lambda: object(), False, id="not an httpx client"),
    ],
)
def test_only_a_plain_client_is_sent_to_directly(make: Callable[[], Any], direct: bool) -> None:
    assert can_send_direct(make()) is direct


@pytest.mark.parametrize("stream", [False, True])
async def test_the_answer_is_the_one_the_whole_send_gives(stream: bool) -> None:
    async with _client(_answer) as client:
        answers = []
        for send in (client.send, lambda r, **kw: direct_send(client, r, **kw)):
            request = client.build_request("POST", URL, json={"n": 1})
            response = await send(request, stream=stream)
            if stream:
                assert not response.is_closed  # the caller reads it
                await response.aread()
            answers.append(response)
        whole, direct = answers
        assert direct.status_code == whole.status_code == 200
        assert direct.json() == whole.json()
        assert dict(direct.headers) == dict(whole.headers)
        assert direct.request.url == whole.request.url
        assert direct.encoding == whole.encoding
        assert direct.is_closed and direct.elapsed.total_seconds() >= 0  # timed, as httpx does
        assert direct.request.extensions["timeout"] == whole.request.extensions["timeout"]


async def test_a_redirect_is_followed_by_the_client_s_own_send() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/v1/chat/completions":
            return httpx.Response(307, headers={"location": "/v2/chat/completions"})
        return _answer(request)

    async with _client(handler, follow_redirects=True) as client:
        response = await direct_send(client, client.build_request("POST", URL, json={"n": 2}))
    assert response.status_code == 200
    assert response.json()["path"] == "/v2/chat/completions"
    assert response.json()["echo"] == '{"n":2}'  # a 307 keeps the method and the body
    # sent once directly, then again by send, which followed the redirect
    assert seen == ["/v1/chat/completions", "/v1/chat/completions", "/v2/chat/completions"]


async def test_a_transport_error_names_its_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    async with _client(handler) as client:
        request = client.build_request("POST", URL, json={})
        with pytest.raises(httpx.ConnectError) as caught:
            await direct_send(client, request)
    assert caught.value.request is request


@pytest.mark.parametrize(
    ("url", "kwargs"),
    [
        pytest.param("http://u:p@127.0.0.1:9/v1/x", {}, id="credentials in the URL"),
        pytest.param(URL, {"auth": ("u", "p")}, id="auth for this request"),
        pytest.param(URL, {"follow_redirects": False}, id="redirects chosen for this request"),
    ],
)
async def test_what_only_the_whole_send_does_goes_to_it(url: str, kwargs: dict[str, Any]) -> None:
    async with _client(lambda r: httpx.Response(200, text=r.headers.get("authorization", ""))) as c:
        direct = await direct_send(c, c.build_request("GET", url), **kwargs)
        whole = await c.send(c.build_request("GET", url), **kwargs)
    assert direct.text == whole.text


async def test_a_closed_client_refuses_as_httpx_does() -> None:
    client = _client(_answer)
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await direct_send(client, client.build_request("GET", URL))


async def test_the_request_is_logged_as_httpx_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    async with _client(_answer) as client:
        with caplog.at_level(logging.INFO, logger="httpx"):
            await direct_send(client, client.build_request("POST", URL, json={}))
    assert [r.getMessage() for r in caplog.records] == [
        f'HTTP Request: POST {URL} "HTTP/1.1 200 OK"'
    ]


async def test_the_exchange_client_sends_directly_only_to_a_plain_client() -> None:
    async with _client(_answer) as plain, _client(_answer, auth=("u", "p")) as with_auth:
        assert exchange.ExchangeClient(plain)._direct is True
        assert exchange.ExchangeClient(with_auth)._direct is False
        outer = exchange.ExchangeClient(plain)
        response = await outer.send(outer.build_request("POST", URL, json={"n": 3}))
        assert response.json()["echo"] == '{"n":3}'
        assert not plain.cookies  # the wrapped client's jar was never the one read
