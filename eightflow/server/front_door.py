"""The front door: an ASGI reverse proxy in front of the Prefect server, with two roles.

Why a small ASGI proxy and not nginx or Caddy: the rules are about Prefect's API (which of
its ~150 routes a role may call, ``include_secrets`` in a query or a JSON body, the auth
message inside a websocket), not about hosts or prefixes; starlette-free ASGI, uvicorn, httpx
and websockets come with Prefect already, so the door adds no dependency and runs wherever
the server runs.

- ``/api/...`` with the admin credential: passed through as it came.
- ``/api/...`` with the runner credential: checked against
  :mod:`eightflow.server.runner_policy`, query and body rewritten (``include_secrets``
  dropped), then sent with the admin credential. Anything else: 403 with a JSON body.
- ``/api/...`` with neither: 401 (``GET /api/health`` and ``/api/ready`` answer anyone).
- Everything else is the UI's static app, passed through.
- Websockets: the first message (``{"type": "auth", "token": ...}``) says who it is; a runner
  may open only the read-only streams in ``RUNNER_SOCKETS``.
- A 503 that says the server's database was busy (the transaction rolled back) is sent
  again, within a few seconds, before it reaches the browser; writes only on SQLite
  (:mod:`eightflow.server.busy_retry` says which and why).

Run as ``python -m eightflow.server.front_door --port P --upstream http://127.0.0.1:Q
--home EIGHTFLOW_HOME [--resend-busy-writes]``; the credentials are read from the home's
0600 files, never argv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from eightflow.server import busy_retry
from eightflow.server.credentials import ADMIN, RUNNER, Credentials
from eightflow.server.runner_policy import (
    MAX_RUNNER_BODY,
    Refused,
    clean_body,
    clean_query,
    runner_answer,
    runner_may,
    split_path,
)
from eightflow.server.socket_relay import Receive, Scope, Send, relay

log = logging.getLogger("eightflow.front_door")
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "host", "content-length"}
)  # fmt: skip
OPEN_API = frozenset({("GET", "/health"), ("GET", "/ready")})
BODY_LIMITS = {ADMIN: 100 * MAX_RUNNER_BODY, RUNNER: MAX_RUNNER_BODY + 1}


class FrontDoor:
    """The ASGI app: ``FrontDoor("http://127.0.0.1:4311", Credentials(...))``."""

    def __init__(
        self, upstream: str, credentials: Credentials, *, resend_busy_writes: bool = False
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.credentials = credentials
        # Writes go again after a busy 503 only on SQLite (see eightflow.server.busy_retry).
        self.resend_busy_writes = resend_busy_writes
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
            timeout = httpx.Timeout(120.0, connect=5.0)
            self._client = httpx.AsyncClient(timeout=timeout, limits=limits)
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "websocket":
            await relay(self.route, self.credentials, self.upstream, scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def route(self, scope: Scope) -> tuple[str, list[str] | None]:
        """(raw path, API segments or None for the UI app); raises Refused when ambiguous."""
        raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        raw = raw.split("?", 1)[0]
        segments = split_path(raw)
        if segments is None:
            raise Refused(400, "ambiguous path (dot segments, encoded slashes or empty segments)")
        return raw, segments[1:] if segments[:1] == ["api"] else None

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"].upper()
        headers = _headers(scope)
        role = "-"
        try:
            raw, api = self.route(scope)
            query: bytes = scope.get("query_string", b"")
            if api is not None:
                role = self.credentials.role_of_header(headers.get("authorization")) or "-"
                api_path = "/" + "/".join(api)
                if role == "-" and (method, api_path) not in OPEN_API:
                    raise Refused(401, "Unauthorized")
            # Who may send how much: the operator's deploys are big; nobody else's need be.
            body = await _read_body(receive, BODY_LIMITS.get(role, MAX_RUNNER_BODY))
            if api is not None and role == RUNNER:
                answer = runner_answer(method, api)
                if answer is not None:
                    log.info("runner %s %s -> 200 answered by the door", method, scope["path"])
                    await _json(send, 200, answer)
                    return
                if not runner_may(method, api):
                    raise Refused(403, f"the runner role may not {method} /api{api_path}")
                query = clean_query(query)
                body = clean_body(api, body) if method in ("POST", "PUT", "PATCH") else b""
                headers["authorization"] = self.credentials.admin_header() or ""
        except Refused as refused:
            log.info("%s %s %s -> %d refused", role, method, scope["path"], refused.status)
            await _json(send, refused.status, {"detail": refused.reason})
            return
        status = await self.forward(method, raw, query, headers, body, send)
        log.info("%s %s %s -> %d", role, method, scope["path"], status)

    async def forward(
        self,
        method: str,
        raw: str,
        query: bytes,
        headers: dict[str, str],
        body: bytes,
        send: Send,
    ) -> int:
        url = self.upstream + raw + ("?" + query.decode("latin-1") if query else "")
        outgoing = {k: v for k, v in headers.items() if k not in HOP_BY_HOP}
        # The body is relayed as the server encoded it: only in what the client accepts.
        outgoing.setdefault("accept-encoding", "identity")
        resend = busy_retry.may_resend(method, raw, resend_writes=self.resend_busy_writes)
        attempt, started, slept = 0, time.monotonic(), 0.0
        read: bytes | None = None  # a 503's body, read (as sent) to see whether it was busy
        while True:
            request = self.client.build_request(method, url, headers=outgoing, content=body)
            try:
                response = await self.client.send(request, stream=True)
            except httpx.HTTPError as exc:
                return await _unanswered(send, exc)
            if not (resend and response.status_code == 503):
                break
            try:
                read = b"".join([chunk async for chunk in response.aiter_raw()])
            except httpx.HTTPError as exc:
                return await _unanswered(send, exc)
            finally:
                await response.aclose()
            waited = max(time.monotonic() - started, slept)
            wait = busy_retry.wait_before(attempt, response.headers.get("retry-after"), waited)
            plain = "content-encoding" not in response.headers  # Prefect's busy body is short
            if wait is None or not (plain and busy_retry.is_busy(response.status_code, read)):
                break
            read = None
            log.warning("%s %s -> 503 (the server's database was busy); again in %.2f s",
                        method, raw, wait)  # fmt: skip
            await asyncio.sleep(wait)
            attempt, slept = attempt + 1, slept + wait
        try:
            reply = [
                (k.encode("latin-1"), v.encode("latin-1"))
                for k, v in response.headers.multi_items()
                if k.lower() not in ("transfer-encoding", "connection", "keep-alive")
            ]
            await send({"type": "http.response.start", "status": response.status_code,
                        "headers": reply})  # fmt: skip
            if read is not None:  # a 503 read above to see whether it was busy, as it came
                await send({"type": "http.response.body", "body": read, "more_body": True})
            else:
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()
        return response.status_code


async def _unanswered(send: Send, exc: Exception) -> int:
    await _json(send, 502, {"detail": f"the Prefect server did not answer ({exc!r})"})
    return 502


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers, lower-cased; a repeated header keeps its last value."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"request body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="eightflow's front door for a Prefect server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the Prefect server's base URL")
    parser.add_argument("--home", required=True, help="EIGHTFLOW_HOME holding the credentials")
    parser.add_argument(
        "--resend-busy-writes",
        action="store_true",
        help="the server's database is SQLite: a write it answered 'busy' may go again",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    import uvicorn

    from eightflow.server.auth import check_bind

    credentials = Credentials.of_home(Path(args.home))
    check_bind(args.host, credentials.admin)
    app = FrontDoor(args.upstream, credentials, resend_busy_writes=args.resend_busy_writes)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        ws="websockets",
    )


if __name__ == "__main__":  # pragma: no cover - the launcher's entry point
    main()
