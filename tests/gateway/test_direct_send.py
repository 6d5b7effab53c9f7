"""A request sent straight to the transport answers as the client's whole ``send`` would."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from eightflow.gateway import direct_send, exchange
from eightflow.gateway.direct_send import can_send_direct

URL = "http://127.0.0.1:9/v1/chat/completions"
Handler = Callable[[httpx.Request], httpx.Response]


def _answer(request: httpx.Request) -> httpx.Response:
    """A body still to be read, as a real transport answers."""
    body = json.dumps(
        {"echo": request.content.decode(), "path": request.url.path, "method": request.method}
    ).encode()
    return httpx.Response(
        200,
        stream=httpx.ByteStream(body),
        headers={
            "content-type": "application/json",
            "set-cookie": "session=abc; Path=/",
            "x-ratelimit-remaining-requests": "9",
        },
    )


def _client(handler: Handler, **options: Any) -> Any:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), **options)


class _OwnSend(httpx.AsyncClient):
    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        return await super().send(request, **kwargs)


async def _hook(_: object) -> None:
    return None


def _instance_send() -> Any:
    client = _client(_answer)
    client.send = client.send  # e.g. a per-client wrapper
    return client


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
        pytest.param(_instance_send, False, id="a send set on the client"),
        pytest.param(lambda: object(), False, id="not an httpx client"),
    ],
)
def test_only_a_plain_client_is_sent_to_directly(make: Callable[[], Any], direct: bool) -> None:
    assert can_send_direct(make()) is direct


def test_a_send_an_instrumentation_wrapped_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    original = httpx.AsyncClient.send

    @functools.wraps(original)
    async def traced(self: Any, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        return await original(self, request, **kwargs)

    class Traced(httpx.AsyncClient):  # patched here, as a tracer patches httpx's own
        pass

    monkeypatch.setattr(Traced, "send", traced)
    assert can_send_direct(Traced(transport=httpx.MockTransport(_answer))) is False


def test_a_patched_httpx_send_is_kept_however_it_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    original = httpx.AsyncClient.send

    async def send(self: Any, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        return await original(self, request, **kwargs)

    send.__qualname__ = "AsyncClient.send"  # named as httpx's own, without __wrapped__
    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    assert can_send_direct(_client(_answer)) is False


def test_an_httpx_whose_private_parts_differ_keeps_the_whole_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class OldBound:  # httpx 0.27's BoundAsyncStream took a timer, not a start time
        def __init__(self, stream: Any, response: Any, timer: Any) -> None: ...

    monkeypatch.setattr(direct_send, "BoundAsyncStream", OldBound)
    direct_send._httpx_parts_fit.cache_clear()
    try:
        assert can_send_direct(_client(_answer)) is False
    finally:
        monkeypatch.undo()
        direct_send._httpx_parts_fit.cache_clear()
    assert can_send_direct(_client(_answer)) is True


@pytest.mark.parametrize("stream", [False, True])
async def test_the_answer_is_the_one_the_whole_send_gives(stream: bool) -> None:
    async with _client(_answer, default_encoding="latin-1") as client:
        answers = []
        for send in (client.send, functools.partial(direct_send.send, client)):
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
        assert direct.encoding == whole.encoding == "latin-1"  # no charset: the client's
        assert direct.is_closed and direct.elapsed.total_seconds() >= 0  # timed, as httpx does
        assert direct.history == whole.history == []


async def test_a_request_without_a_timeout_gets_the_client_s() -> None:
    async with _client(_answer, timeout=7.0) as client:
        request = httpx.Request("POST", URL, json={})  # not built on the client
        await direct_send.send(client, request)
    assert request.extensions["timeout"] == httpx.Timeout(7.0).as_dict()


async def test_a_mounted_transport_is_the_one_used() -> None:
    def mounted(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="mounted")

    mounts = {"http://127.0.0.1:9": httpx.MockTransport(mounted)}
    async with _client(_answer, mounts=mounts) as client:
        response = await direct_send.send(client, client.build_request("GET", URL))
    assert response.text == "mounted"


def _redirecting(status: int, seen: list[str]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v1/chat/completions":
            return httpx.Response(status, headers={"location": "/v2/chat/completions"})
        return _answer(request)

    return handler


@pytest.mark.parametrize(
    ("status", "follow", "sent", "answer"),
    [
        pytest.param(
            307, True, ["POST /v1/chat/completions", "POST /v2/chat/completions"], 200, id="307"
        ),
        pytest.param(
            303, True, ["POST /v1/chat/completions", "GET /v2/chat/completions"], 200, id="303"
        ),
        pytest.param(
            301, True, ["POST /v1/chat/completions", "GET /v2/chat/completions"], 200, id="301"
        ),
        pytest.param(307, False, ["POST /v1/chat/completions"], 307, id="307, not followed"),
    ],
)
async def test_a_redirect_is_handled_as_httpx_handles_it_and_sent_once(
    status: int, follow: bool, sent: list[str], answer: int
) -> None:
    answers = []
    for direct in (False, True):
        seen: list[str] = []
        async with _client(_redirecting(status, seen), follow_redirects=follow) as client:
            request = client.build_request("POST", URL, json={"n": 2})
            if direct:
                response = await direct_send.send(client, request)
            else:
                response = await client.send(request)
        assert seen == sent  # the request that redirected was not sent again
        answers.append(response)
    whole, direct_answer = answers
    assert direct_answer.status_code == whole.status_code == answer
    assert [r.status_code for r in direct_answer.history] == [r.status_code for r in whole.history]
    if answer == 200:
        assert direct_answer.json() == whole.json()
    else:
        assert direct_answer.next_request is not None and whole.next_request is not None
        assert direct_answer.next_request.url == whole.next_request.url


async def test_a_transport_error_names_its_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    async with _client(handler) as client:
        request = client.build_request("POST", URL, json={})
        with pytest.raises(httpx.ConnectError) as caught:
            await direct_send.send(client, request)
    assert caught.value.request is request


async def test_a_body_that_fails_while_read_is_closed() -> None:
    closed: list[bool] = []

    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b'{"partial'
            raise httpx.ReadError("connection reset")

        async def aclose(self) -> None:
            closed.append(True)

    async with _client(lambda r: httpx.Response(200, stream=Broken())) as client:
        with pytest.raises(httpx.ReadError):
            await direct_send.send(client, client.build_request("POST", URL, json={}))
    assert closed  # the connection is given back, not leaked


@pytest.mark.parametrize(
    ("url", "kwargs"),
    [
        pytest.param("http://u:p@127.0.0.1:9/v1/x", {}, id="credentials in the URL"),
        pytest.param(URL, {"auth": ("u", "p")}, id="auth for this request"),
    ],
)
async def test_what_only_the_whole_send_does_goes_to_it(url: str, kwargs: dict[str, Any]) -> None:
    async with _client(lambda r: httpx.Response(200, text=r.headers.get("authorization", ""))) as c:
        direct = await direct_send.send(c, c.build_request("GET", url), **kwargs)
    assert direct.text == httpx.BasicAuth("u", "p")._auth_header


async def test_redirects_chosen_for_one_request_are_respected() -> None:
    seen: list[str] = []
    async with _client(_redirecting(307, seen), follow_redirects=True) as client:
        request = client.build_request("POST", URL, json={})
        response = await direct_send.send(client, request, follow_redirects=False)
    assert response.status_code == 307 and seen == ["POST /v1/chat/completions"]


async def test_a_closed_client_refuses_as_httpx_does() -> None:
    client = _client(_answer)
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await direct_send.send(client, client.build_request("GET", URL))


async def test_the_request_is_logged_once_as_httpx_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with _client(_answer) as client:
        with caplog.at_level(logging.INFO, logger="httpx"):
            await direct_send.send(client, client.build_request("POST", URL, json={}))
    assert [r.getMessage() for r in caplog.records] == [
        f'HTTP Request: POST {URL} "HTTP/1.1 200 OK"'
    ]


async def test_the_exchange_client_looks_at_the_wrapped_client_on_every_request() -> None:
    heard: list[str] = []

    async def hook(request: httpx.Request) -> None:
        heard.append(request.url.path)

    async with _client(_answer) as inner:
        outer = exchange.ExchangeClient(inner)
        response = await outer.send(outer.build_request("POST", URL, json={"n": 3}))
        assert response.json()["echo"] == '{"n":3}'
        inner.event_hooks["request"].append(hook)  # added after the client was made
        await outer.send(outer.build_request("POST", URL, json={"n": 4}))
    assert heard == ["/v1/chat/completions"]
