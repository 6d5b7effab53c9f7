"""Websockets through the front door.

Prefect authenticates a websocket by its first message, ``{"type": "auth", "token": T}``
(with the ``prefect`` subprotocol), not by a header. The door reads that message, decides
the role from ``T``, lets a runner open only the read-only streams in ``RUNNER_SOCKETS``
(``/api/events/out``, ``/api/logs/out``), and sends the server the admin token instead.
After that the two sides are relayed frame by frame.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from eightflow.server.credentials import RUNNER, Credentials
from eightflow.server.runner_policy import Refused, runner_may_open

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Router = Callable[[Scope], tuple[str, list[str] | None]]

log = logging.getLogger("eightflow.front_door")
POLICY_VIOLATION = 1008


async def _close(send: Send, reason: str, code: int = POLICY_VIOLATION) -> None:
    await send({"type": "websocket.close", "code": code, "reason": reason[:120]})


async def relay(
    route: Router,
    credentials: Credentials,
    upstream: str,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Accept, authenticate from the first message, then relay both ways.

    ``route`` maps the scope to (raw path, API segments or None), as the HTTP side does.
    """
    if (await receive())["type"] != "websocket.connect":
        return
    try:
        raw, api = route(scope)
    except Refused as refused:
        await _close(send, refused.reason)
        return
    if api is None:
        await _close(send, "no websocket here")
        return
    offered = list(scope.get("subprotocols") or [])
    if credentials.auth_on and "prefect" not in offered:
        await _close(send, "'prefect' subprotocol required when auth is configured")
        return
    await send({"type": "websocket.accept", "subprotocol": "prefect" if offered else None})
    first: dict[str, Any] | None = None
    role = "admin"
    if credentials.auth_on:
        first = await _first_message(receive)
        if first is None or first.get("type") != "auth":
            await _close(send, "Expected 'auth' message")
            return
        found = credentials.role_of_token(first.get("token"))
        if found is None:
            await _close(send, "Invalid token")
            return
        role = found
        if role == RUNNER and not runner_may_open(api):
            log.info("runner WS %s -> refused", scope["path"])
            await _close(send, f"the runner role may not open {scope['path']}")
            return
        first["token"] = credentials.admin
    query = scope.get("query_string", b"").decode("latin-1")
    url = upstream.replace("http", "ws", 1) + raw + (f"?{query}" if query else "")
    log.info("%s WS %s", role, scope["path"])
    await _pipe(url, offered, first, receive, send)


async def _first_message(receive: Receive) -> dict[str, Any] | None:
    message = await receive()
    if message["type"] != "websocket.receive":
        return None
    text = message.get("text")
    if text is None:
        text = (message.get("bytes") or b"").decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


async def _pipe(
    url: str, offered: list[str], first: dict[str, Any] | None, receive: Receive, send: Send
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, WebSocketException
    from websockets.typing import Subprotocol

    protocols = [Subprotocol(name) for name in offered] or None
    try:
        upstream = await connect(
            url, subprotocols=protocols, proxy=None, max_size=None, compression=None
        )
    except (OSError, WebSocketException) as exc:
        await _close(send, f"the Prefect server did not answer ({type(exc).__name__})", 1011)
        return

    async def to_client() -> None:
        try:
            async for frame in upstream:
                key = "text" if isinstance(frame, str) else "bytes"
                await send({"type": "websocket.send", key: frame})
        except ConnectionClosed:
            pass
        await _close(send, upstream.close_reason or "", upstream.close_code or 1000)

    async def to_server() -> None:
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            frame = message.get("text")
            await upstream.send(frame if frame is not None else message.get("bytes") or b"")

    try:
        if first is not None:
            await upstream.send(json.dumps(first))
        tasks = [asyncio.ensure_future(to_client()), asyncio.ensure_future(to_server())]
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    except ConnectionClosed:
        pass
    finally:
        await upstream.close()
