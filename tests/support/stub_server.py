"""An OpenAI-compatible chat-completions stub server with fault injection.

Why a real HTTP server rather than a mocked ``litellm.completion``: eightflow's only door
to models is litellm, and most of what goes wrong in production happens on the wire —
status codes mapped to exception types, retries, timeouts, bodies that do not parse,
usage accounting, connection pools under concurrency. Pointing litellm at this server
(``model="openai/gpt-4o-mini", api_base=stub.api_base, api_key="sk-stub"``) exercises that
whole path offline and deterministically.

Three ways to run it:

* in-process: ``with StubServer(StubConfig(latency_ms=50)) as stub: ...`` — the server runs
  on its own event loop in a daemon thread, so synchronous and asynchronous callers alike
  can talk to it;
* as a subprocess (benchmarks, so the stub does not share the GIL with what is measured):
  ``python -m tests.support.stub_server --port 0 --latency-ms 100`` prints
  ``READY http://127.0.0.1:PORT`` once listening; :func:`start_stub_process` wraps that;
* either way, it is observed and steered over HTTP (``/_stub/stats``, ``/_stub/reset``,
  ``/_stub/config``, ``/_stub/history``), which works across processes.

It only ever binds 127.0.0.1: it is a test fixture, not a service.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import os
import random
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self, get_args

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tests.support.schema_instance import SchemaInstanceError, instance_for_schema
from tests.support.stub_batches import BatchEndpoints

__all__ = [
    "ErrorKind",
    "Outcome",
    "StubConfig",
    "StubControlError",
    "StubServer",
    "main",
]

HOST = "127.0.0.1"
STUB_MODEL = "gpt-4o-mini"
DEFAULT_HISTORY_LIMIT = 10_000

ErrorKind = Literal[
    "429", "429-retry-after", "500", "503", "timeout", "malformed", "reset", "schema"
]  # fmt: skip
"""A fault the stub can inject instead of a normal answer: ``429`` (no Retry-After unless
``retry_after_s`` is set), ``429-retry-after`` (always with one), ``500``, ``503``,
``timeout`` (a hang of ``timeout_hang_s``), ``malformed`` (a truncated JSON body),
``reset`` (the connection is dropped without an answer) and ``schema`` (a 200 whose
content is not an instance of the requested schema)."""

Outcome = Literal[
    "ok", "429", "429-retry-after", "500", "503", "timeout", "malformed", "reset", "schema",
    "bad_request",
]  # fmt: skip
"""What happened to one chat-completion call; ``bad_request`` covers requests the stub
rejects on their own merits (unparsable JSON, ``stream=true``)."""

ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)
OUTCOMES: tuple[str, ...] = get_args(Outcome)

# The tail of a chat.completion body, cut mid-string: what a proxy that drops the
# connection half-way, or a buggy gateway, hands back with a cheerful HTTP 200.
_MALFORMED_BODY = (
    '{"id": "chatcmpl-stub-malformed", "object": "chat.completion", "choices": '
    '[{"index": 0, "message": {"role": "assistant", "content": "trunc'
)

_ERROR_BODIES: dict[str, tuple[int, str, str, str]] = {
    # kind: (status, message, type, code) — shaped like OpenAI's own error JSON so that
    # litellm's exception mapping sees what it would see in production.
    "429": (
        429,
        "Rate limit reached for gpt-4o-mini (eightflow stub): requests per min. "
        "Please try again later.",
        "rate_limit_exceeded",
        "rate_limit_exceeded",
    ),
    "500": (
        500,
        "The server had an error while processing your request (eightflow stub).",
        "server_error",
        "internal_error",
    ),
    "429-retry-after": (
        429,
        "Rate limit reached for gpt-4o-mini (eightflow stub): tokens per min. "
        "Please try again later.",
        "rate_limit_exceeded",
        "rate_limit_exceeded",
    ),
    "503": (
        503,
        "The engine is currently overloaded, please try again later (eightflow stub).",
        "server_error",
        "service_unavailable",
    ),
}

# Config fields whose change restarts the seeded error-rate sequence.
_RANDOM_FIELDS = frozenset(
    {"error_rate", "error_kinds", "error_selection", "seed", "latency_jitter_ms"}
)
_OUTAGE_FIELDS = frozenset({"outage_s", "outage_kind"})
_TPM_FIELDS = frozenset({"tpm_limit", "tpm_window_s"})

_SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "cookie"})


def _outcome_of_script_entry(entry: int | str) -> str:
    """Map a ``status_script`` entry (``200``, ``429``, ``"timeout"``, ``"ok"``...) to an
    outcome name; raises ``ValueError`` for anything the stub cannot play."""
    text = str(entry).strip().lower()
    if text in ("200", "ok"):
        return "ok"
    if text in ERROR_KINDS:
        return text
    raise ValueError(f"status_script entry {entry!r} is not 200/'ok' or one of {ERROR_KINDS}")


def _default_error_kinds() -> list[ErrorKind]:
    return ["429", "500"]


class StubConfig(BaseModel):
    """Fault-injection and answer settings of the stub server.

    How each chat call's outcome is chosen, in order:

    1. the next unplayed ``status_script`` entry, if any (``200``/``"ok"`` or a kind);
    2. else the first of ``error_kinds`` while fewer than ``fail_first_n`` calls have been
       failed this way ("two 429s, then success" is ``fail_first_n=2,
       error_kinds=["429"]`` or ``status_script=[429, 429]``);
    3. else an error with probability ``error_rate`` from an RNG seeded with ``seed`` (the
       same call order replays the same faults), its kind taken from ``error_kinds``
       round-robin, or at random with ``error_selection="random"``;
    4. else success.

    Each of the three sequences restarts when its own fields are set again through
    ``configure`` (``status_script``; ``fail_first_n``; ``error_rate``/``error_kinds``/
    ``error_selection``/``seed``) and on ``reset``; changing, say, ``latency_ms`` does
    not replay an exhausted script.
    """

    # Frozen: the running server shares this object, so changes go through configure(),
    # which validates them and restarts the fault sequences they affect.
    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: float = Field(default=0.0, ge=0, description="Delay before every answer.")
    latency_jitter_ms: float = Field(
        default=0.0, ge=0, description="Uniform ± jitter added to latency_ms (seeded)."
    )
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_kinds: list[ErrorKind] = Field(default_factory=_default_error_kinds)
    error_selection: Literal["round_robin", "random"] = "round_robin"
    seed: int = 0
    timeout_hang_s: float = Field(
        default=30.0, ge=0, description="How long a 'timeout' fault stalls before answering."
    )
    fail_first_n: int = Field(default=0, ge=0)
    status_script: list[int | str] = Field(default_factory=list)
    retry_after_s: float | None = Field(
        default=None, ge=0, description="If set, 429/503 answers carry a retry-after header."
    )
    outage_s: float = Field(
        default=0.0,
        ge=0,
        description="A full outage: every call fails with outage_kind for this many seconds "
        "from the first call after it is configured, then the server recovers.",
    )
    outage_kind: ErrorKind = "503"
    prompt_tokens: int | None = Field(default=None, ge=0)
    completion_tokens: int | None = Field(default=None, ge=0)
    content: str | None = Field(default=None, description="Fixed content for every answer.")
    tpm_limit: int | None = Field(
        default=None,
        gt=0,
        description="A provider's tokens-per-window budget: past it a call is answered 429. "
        "Every answer then carries x-ratelimit-limit/remaining/reset-tokens headers.",
    )
    tpm_window_s: float = Field(default=60.0, gt=0, description="The tpm_limit's window.")

    @field_validator("status_script")
    @classmethod
    def _check_script(cls, script: list[int | str]) -> list[int | str]:
        for entry in script:
            _outcome_of_script_entry(entry)
        return script

    @model_validator(mode="after")
    def _kinds_needed(self) -> StubConfig:
        if (self.error_rate > 0 or self.fail_first_n > 0) and not self.error_kinds:
            raise ValueError("error_rate/fail_first_n need at least one entry in error_kinds")
        return self


# ---------------------------------------------------------------------------------------
# Request inspection


def _message_text(message: Any) -> str:
    """The text of one chat message, whether ``content`` is a string or a parts list."""
    if not isinstance(message, Mapping):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        ]
        return "\n".join(parts)
    return ""


def _last_user_text(messages: Sequence[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return _message_text(message)
    return _message_text(messages[-1]) if messages else ""


def _tokens(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


def _schema_of(response_format: Any) -> Mapping[str, Any] | None:
    """The JSON schema of a ``json_schema`` response_format, accepting both OpenAI's
    nested ``{"json_schema": {"schema": ...}}`` and a flat ``{"schema": ...}``."""
    if not isinstance(response_format, Mapping) or response_format.get("type") != "json_schema":
        return None
    holder = response_format.get("json_schema")
    schema = holder.get("schema") if isinstance(holder, Mapping) else None
    if schema is None:
        schema = response_format.get("schema")
    return schema if isinstance(schema, Mapping) else {}


# ---------------------------------------------------------------------------------------
# Shared state


class _StubState:
    """Counters, fault sequence, history and answer cache of one stub server.

    Handlers run on the server's event loop while ``stats()``/``configure()`` may be called
    from the test's thread, hence the lock; every critical section is a few dict
    operations, never an await.
    """

    def __init__(self, config: StubConfig, history_limit: int = DEFAULT_HISTORY_LIMIT) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._history: deque[dict[str, Any]] = deque(maxlen=max(0, history_limit))
        self._content_cache: dict[tuple[str, str], str] = {}
        self._restart_sequence()
        self._clear_counters()

    # -- configuration -------------------------------------------------------------------

    @property
    def config(self) -> StubConfig:
        with self._lock:
            return self._config

    def configure(self, **changes: Any) -> StubConfig:
        """Merge ``changes`` into the config (validated); restart the sequences they touch."""
        with self._lock:
            merged = {**self._config.model_dump(), **changes}
            new = StubConfig.model_validate(merged)
            self._config = new
            self._restart_sequence(set(changes))
            return new

    def _restart_sequence(self, fields: set[str] | None = None) -> None:
        """Restart the fault sequences touched by ``fields`` (all of them if None)."""
        if fields is None or "status_script" in fields:
            self._script_position = 0
        if fields is None or "fail_first_n" in fields:
            self._failed_first = 0
        if fields is None or fields & _OUTAGE_FIELDS:
            self._outage_started: float | None = None
        if fields is None or fields & _TPM_FIELDS:
            self._tpm_started = time.monotonic()
            self._tpm_used = 0
        if fields is None or fields & _RANDOM_FIELDS:
            self._round_robin = 0
            self._fault_rng = random.Random(self._config.seed)
            self._latency_rng = random.Random(self._config.seed + 1)

    # -- counters ------------------------------------------------------------------------

    def _clear_counters(self) -> None:
        self._calls = 0
        self._by_model: dict[str, int] = {}
        self._by_outcome: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        self._by_digest: dict[str, int] = {}
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._history.clear()

    def reset(self) -> None:
        """Clear counters and history and restart the fault sequence; keep the config."""
        with self._lock:
            in_flight = self._in_flight
            self._clear_counters()
            self._in_flight = in_flight
            self._restart_sequence()

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def leave(self) -> None:
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def decide(self) -> tuple[str, float, StubConfig]:
        """Pick the outcome and delay of the next call: (outcome, delay_s, config)."""
        with self._lock:
            cfg = self._config
            outcome = "ok"
            if cfg.outage_s > 0:
                now = time.monotonic()
                if self._outage_started is None:
                    self._outage_started = now
                if now - self._outage_started < cfg.outage_s:
                    outcome = cfg.outage_kind
            if outcome != "ok":
                pass  # the outage decides; the sequences below stay where they are
            elif self._script_position < len(cfg.status_script):
                outcome = _outcome_of_script_entry(cfg.status_script[self._script_position])
                self._script_position += 1
            elif self._failed_first < cfg.fail_first_n:
                outcome = cfg.error_kinds[0]
                self._failed_first += 1
            elif cfg.error_rate > 0 and self._fault_rng.random() < cfg.error_rate:
                if cfg.error_selection == "random":
                    outcome = self._fault_rng.choice(cfg.error_kinds)
                else:
                    outcome = cfg.error_kinds[self._round_robin % len(cfg.error_kinds)]
                    self._round_robin += 1
            delay = cfg.latency_ms / 1000.0
            if cfg.latency_jitter_ms > 0:
                jitter = cfg.latency_jitter_ms / 1000.0
                delay = max(0.0, delay + self._latency_rng.uniform(-jitter, jitter))
            return outcome, delay, cfg

    def charge_tokens(self, tokens: int) -> tuple[bool, dict[str, str]]:
        """Count ``tokens`` against the tpm window: (within budget, rate-limit headers)."""
        with self._lock:
            cfg = self._config
            if cfg.tpm_limit is None:
                return True, {}
            now = time.monotonic()
            if now - self._tpm_started >= cfg.tpm_window_s:
                self._tpm_started, self._tpm_used = now, 0
            allowed = self._tpm_used + tokens <= cfg.tpm_limit
            if allowed:
                self._tpm_used += tokens
            reset = max(0.0, cfg.tpm_window_s - (now - self._tpm_started))
            headers = {
                "x-ratelimit-limit-tokens": str(cfg.tpm_limit),
                "x-ratelimit-remaining-tokens": str(max(0, cfg.tpm_limit - self._tpm_used)),
                "x-ratelimit-reset-tokens": f"{reset:.3f}s",
            }
            return allowed, headers

    def record(
        self,
        *,
        model: str,
        outcome: str,
        digest: str,
        entry: dict[str, Any],
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
    ) -> None:
        with self._lock:
            self._calls += 1
            self._by_model[model] = self._by_model.get(model, 0) + 1
            self._by_outcome[outcome] = self._by_outcome.get(outcome, 0) + 1
            self._by_digest[digest] = self._by_digest.get(digest, 0) + 1
            self._prompt_tokens += prompt_tokens
            self._completion_tokens += completion_tokens
            if self._history.maxlen:
                self._history.append(entry)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": self._calls,
                "by_model": dict(self._by_model),
                "by_outcome": dict(self._by_outcome),
                "requests_by_digest": dict(self._by_digest),
                "usage": {
                    "prompt_tokens": self._prompt_tokens,
                    "completion_tokens": self._completion_tokens,
                },
                "in_flight": self._in_flight,
                "max_in_flight": self._max_in_flight,
            }

    def history(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._history)
        return items if limit is None else items[-limit:] if limit > 0 else []

    # -- answers -------------------------------------------------------------------------

    def content_for(self, body: Mapping[str, Any], user_text: str, digest: str) -> str:
        """Deterministic content: a schema instance, a JSON object, or a short echo."""
        response_format = body.get("response_format")
        schema = _schema_of(response_format)
        if schema is not None:
            key = (json.dumps(schema, sort_keys=True, separators=(",", ":")), digest)
            cached = self._content_cache.get(key)
            if cached is None:
                value = instance_for_schema(schema, seed=digest)
                cached = json.dumps(value, ensure_ascii=False)
                if len(self._content_cache) >= 4096:  # bounded: drop the oldest entry
                    self._content_cache.pop(next(iter(self._content_cache)))
                self._content_cache[key] = cached
            return cached
        if isinstance(response_format, Mapping) and response_format.get("type") == "json_object":
            return json.dumps({"stub": digest})
        return "stub: " + user_text[:60]


# ---------------------------------------------------------------------------------------
# The aiohttp application


def _error_response(
    status: int,
    message: str,
    err_type: str,
    code: str | None,
    *,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": err_type, "param": param, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def _release(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _StubApp:
    """The aiohttp application plus its runner; one per event loop.

    Delays are futures resolved by ``loop.call_later`` (what ``asyncio.sleep`` does, so no
    extra cost per request) that :meth:`close` can resolve early: a stub stalled in a
    30-second "timeout" fault must not hold up ``stop()``.
    """

    def __init__(self, state: _StubState) -> None:
        self.state = state
        self._runner: web.AppRunner | None = None
        self._sleepers: set[asyncio.Future[None]] = set()
        self._closing = False
        self._request_ids = 0
        self.port = 0
        self.batches = BatchEndpoints(lambda: self.url)  # Files + Batches API

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def build(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/models", self._models)
        app.router.add_get("/health", self._health)
        app.router.add_get("/_stub/stats", self._stats)
        app.router.add_post("/_stub/reset", self._reset)
        app.router.add_get("/_stub/config", self._get_config)
        app.router.add_post("/_stub/config", self._set_config)
        app.router.add_get("/_stub/history", self._history)
        self.batches.register(app)
        return app

    async def start(self, port: int = 0) -> None:
        # No access log: at hundreds of requests per second it is pure CPU overhead.
        self._runner = web.AppRunner(
            self.build(), access_log=None, handle_signals=False, shutdown_timeout=2.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, port, backlog=2048)
        await site.start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1])

    async def close(self) -> None:
        self._closing = True
        for future in list(self._sleepers):
            _release(future)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _pause(self, seconds: float) -> None:
        if seconds <= 0 or self._closing:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        handle = loop.call_later(seconds, _release, future)
        self._sleepers.add(future)
        try:
            await future
        finally:
            handle.cancel()
            self._sleepers.discard(future)

    # -- chat ----------------------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        state.enter()
        try:
            return await self._chat_inner(request)
        finally:
            state.leave()

    async def _chat_inner(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        headers = {k.lower(): v for k, v in request.headers.items()}
        for secret in _SECRET_HEADERS:
            headers.pop(secret, None)
        try:
            body = await request.json(loads=json.loads)
            if not isinstance(body, dict):
                raise ValueError("request body must be a JSON object")
        except ValueError as exc:
            state.record(
                model="<unparsable>",
                outcome="bad_request",
                digest="",
                entry={"time": time.time(), "outcome": "bad_request", "headers": headers},
            )
            return _error_response(400, f"invalid JSON body: {exc}", "invalid_request_error", None)

        model = str(body.get("model") or "<missing>")
        raw_messages = body.get("messages")
        messages: list[Any] = raw_messages if isinstance(raw_messages, list) else []
        user_text = _last_user_text(messages)
        digest = hashlib.sha256(user_text.encode()).hexdigest()[:12]
        response_format = body.get("response_format")
        entry: dict[str, Any] = {
            "time": time.time(),
            "path": request.path,
            "model": model,
            "messages": messages,
            "response_format": response_format is not None,
            "response_format_type": response_format.get("type")
            if isinstance(response_format, Mapping)
            else None,
            "digest": digest,
            "headers": headers,
        }

        if body.get("stream"):
            entry["outcome"] = "bad_request"
            state.record(model=model, outcome="bad_request", digest=digest, entry=entry)
            return _error_response(
                400,
                "stream=true is not supported by the eightflow stub server",
                "invalid_request_error",
                "unsupported_parameter",
                param="stream",
            )

        outcome, delay, cfg = state.decide()
        entry["outcome"] = outcome

        if outcome in _ERROR_BODIES:
            state.record(model=model, outcome=outcome, digest=digest, entry=entry)
            await self._pause(delay)
            status, message, err_type, code = _ERROR_BODIES[outcome]
            extra: dict[str, str] = {}
            if cfg.retry_after_s is not None and outcome in ("429", "503"):
                extra["retry-after"] = f"{cfg.retry_after_s:g}"
            if outcome == "429-retry-after":
                extra["retry-after"] = f"{cfg.retry_after_s if cfg.retry_after_s else 1:g}"
            return _error_response(status, message, err_type, code, headers=extra)
        if outcome == "reset":
            state.record(model=model, outcome=outcome, digest=digest, entry=entry)
            await self._pause(delay)
            if request.transport is not None:
                request.transport.abort()  # no status line, no body: a dropped connection
            return web.Response(status=200)  # never sent: the transport is gone
        if outcome == "malformed":
            state.record(model=model, outcome=outcome, digest=digest, entry=entry)
            await self._pause(delay)
            return web.Response(status=200, text=_MALFORMED_BODY, content_type="application/json")

        try:
            if outcome == "schema":
                content = '{"unexpected": "an answer outside the requested schema"}'
            elif cfg.content is not None:
                content = cfg.content
            else:
                content = state.content_for(body, user_text, digest)
        except SchemaInstanceError as exc:
            entry["outcome"] = "bad_request"
            state.record(model=model, outcome="bad_request", digest=digest, entry=entry)
            return _error_response(400, str(exc), "invalid_request_error", "invalid_schema")

        if cfg.prompt_tokens is not None:
            prompt_tokens = cfg.prompt_tokens
        else:
            prompt_tokens = _tokens(sum(len(_message_text(m)) for m in messages))
        if cfg.completion_tokens is not None:
            completion_tokens = cfg.completion_tokens
        else:
            completion_tokens = _tokens(len(content))
        within, rate_headers = state.charge_tokens(prompt_tokens + completion_tokens)
        if not within:  # past the tokens-per-minute budget: refused, nothing used
            entry["outcome"] = "429"
            state.record(model=model, outcome="429", digest=digest, entry=entry)
            status, message, err_type, code = _ERROR_BODIES["429"]
            return _error_response(status, message, err_type, code, headers=rate_headers)
        state.record(
            model=model,
            outcome=outcome,
            digest=digest,
            entry=entry,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
        # A "timeout" fault stalls long enough for the client to give up; if the client
        # is more patient than that, it gets a normal (late) answer, as from a slow API.
        await self._pause(cfg.timeout_hang_s if outcome == "timeout" else delay)

        self._request_ids += 1
        request_id = f"chatcmpl-stub-{self._request_ids}-{digest}"
        payload = {
            "id": request_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_eightflow_stub",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return web.json_response(payload, headers={"x-request-id": request_id, **rate_headers})

    # -- misc endpoints ------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        model = {"id": STUB_MODEL, "object": "model", "created": 0, "owned_by": "eightflow-stub"}
        return web.json_response({"object": "list", "data": [model]})

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.stats())

    async def _reset(self, request: web.Request) -> web.Response:
        self.state.reset()
        return web.json_response({"ok": True})

    async def _get_config(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.config.model_dump(mode="json"))

    async def _set_config(self, request: web.Request) -> web.Response:
        try:
            changes = await request.json() if request.can_read_body else {}
            if not isinstance(changes, dict):
                raise ValueError("config body must be a JSON object")
            config = self.state.configure(**changes)
        except (ValueError, ValidationError) as exc:
            return _error_response(400, str(exc), "invalid_request_error", "invalid_config")
        return web.json_response(config.model_dump(mode="json"))

    async def _history(self, request: web.Request) -> web.Response:
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return _error_response(400, "limit must be an integer", "invalid_request_error", None)
        return web.json_response(self.state.history(limit))


# ---------------------------------------------------------------------------------------
# HTTP control client (used by StubServer's readiness check and by StubProcess)


class StubControlError(RuntimeError):
    """A control request to a stub server failed (not reachable, or rejected)."""


# Proxies from the environment must never see requests to 127.0.0.1.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(method: str, url: str, body: Any = None, timeout: float = 10.0) -> Any:
    """Send one JSON control request with the standard library (no httpx import needed
    in a benchmark harness) and return the decoded answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with _DIRECT.open(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise StubControlError(f"{method} {url} -> HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise StubControlError(f"{method} {url} failed: {exc}") from exc


# ---------------------------------------------------------------------------------------
# In-process server


class StubServer:
    """The stub running on its own event loop in a daemon thread of this process.

    A thread rather than the caller's loop so that the same object serves synchronous
    tests (``litellm.completion``), async tests on any loop, and Prefect task runners.
    """

    def __init__(
        self,
        config: StubConfig | None = None,
        port: int = 0,
        *,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
    ) -> None:
        self._state = _StubState(config or StubConfig(), history_limit)
        self._requested_port = port
        self._app: _StubApp | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> Self:
        """Start serving and return once ``/health`` answers; raises if it cannot bind."""
        if self._thread is not None:
            raise RuntimeError("StubServer already started")
        self._ready.clear()
        self._startup_error = None
        self._app = _StubApp(self._state)
        self._thread = threading.Thread(target=self._run, name="eightflow-stub-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"stub server did not start within {timeout}s")
        if self._startup_error is not None:
            self._thread.join(5)
            self._thread = None
            raise RuntimeError(f"stub server failed to start: {self._startup_error}") from (
                self._startup_error
            )
        http_json("GET", self.url + "/health", timeout=timeout)
        return self

    def _run(self) -> None:
        assert self._app is not None
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._app.start(self._requested_port))
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(self._app.close())
                _cancel_pending(loop)
            finally:
                loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving; in-flight delays (including "timeout" stalls) end immediately.

        Idempotent, so fixtures can call it unconditionally.
        """
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"stub server thread did not stop within {timeout}s")
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._app is None or not self._app.port:
            raise RuntimeError("StubServer is not started")
        return self._app.port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_base(self) -> str:
        """What to pass as litellm's ``api_base`` (with ``model="openai/..."``)."""
        return self.url + "/v1"

    # -- observation and control ---------------------------------------------------------

    @property
    def config(self) -> StubConfig:
        return self._state.config

    def configure(self, **changes: Any) -> StubConfig:
        """Change the config at run time (validated merge). A ``status_script`` or
        ``fail_first_n`` given here applies from the next call (see :class:`StubConfig`)."""
        return self._state.configure(**changes)

    def stats(self) -> dict[str, Any]:
        return self._state.stats()

    def reset(self) -> None:
        self._state.reset()

    @property
    def history(self) -> list[dict[str, Any]]:
        """The last ``history_limit`` chat requests, oldest first (copies of the list,
        entries shared), with secret headers removed."""
        return self._state.history()

    def __repr__(self) -> str:
        where = self.url if self._app is not None and self._app.port else "not started"
        return f"StubServer({where})"


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


# ---------------------------------------------------------------------------------------
# Subprocess mode


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.stub_server",
        description="OpenAI-compatible stub server with fault injection (binds 127.0.0.1).",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--config-json", help="a full StubConfig as JSON; flags override it")
    parser.add_argument("--latency-ms", type=float)
    parser.add_argument("--latency-jitter-ms", type=float)
    parser.add_argument("--error-rate", type=float)
    parser.add_argument("--error-kinds", type=_csv, help="e.g. 429,500,timeout,malformed")
    parser.add_argument("--error-selection", choices=["round_robin", "random"])
    parser.add_argument("--seed", type=int)
    parser.add_argument("--timeout-hang-s", type=float)
    parser.add_argument("--fail-first-n", type=int)
    parser.add_argument("--status-script", type=_csv, help="e.g. 429,429,200")
    parser.add_argument("--retry-after-s", type=float)
    parser.add_argument("--outage-s", type=float, help="a full outage this long, then recovery")
    parser.add_argument("--outage-kind")
    parser.add_argument("--prompt-tokens", type=int)
    parser.add_argument("--completion-tokens", type=int)
    parser.add_argument("--content")
    parser.add_argument("--history-limit", type=int, default=DEFAULT_HISTORY_LIMIT)
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="exit when the launching process dies, so a crashed harness leaves no stub",
    )
    return parser


_FLAG_FIELDS = (
    "latency_ms",
    "latency_jitter_ms",
    "error_rate",
    "error_kinds",
    "error_selection",
    "seed",
    "timeout_hang_s",
    "fail_first_n",
    "status_script",
    "retry_after_s",
    "outage_s",
    "outage_kind",
    "prompt_tokens",
    "completion_tokens",
    "content",
)


def config_from_args(args: argparse.Namespace) -> StubConfig:
    """Build the config from ``--config-json`` overlaid with the explicit flags."""
    base: dict[str, Any] = json.loads(args.config_json) if args.config_json else {}
    for name in _FLAG_FIELDS:
        value = getattr(args, name)
        if value is not None:
            base[name] = value
    return StubConfig.model_validate(base)


async def _watch_parent(parent_pid: int, stop: Callable[[], None]) -> None:
    while True:
        await asyncio.sleep(0.5)
        if os.getppid() != parent_pid:
            stop()
            return


async def serve(
    config: StubConfig,
    port: int = 0,
    *,
    history_limit: int = DEFAULT_HISTORY_LIMIT,
    exit_with_parent: bool = False,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve on the running loop until SIGTERM/SIGINT (or the parent dies, if asked)."""
    app = _StubApp(_StubState(config, history_limit))
    await app.start(port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # e.g. Windows
            loop.add_signal_handler(sig, stop.set)
    watcher = (
        asyncio.create_task(_watch_parent(os.getppid(), stop.set)) if exit_with_parent else None
    )
    (ready or _print_ready)(app.url)
    try:
        await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        await app.close()


def _print_ready(url: str) -> None:
    print(f"READY {url}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m tests.support.stub_server``."""
    args = _parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except (ValueError, ValidationError) as exc:
        print(f"invalid stub configuration: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(
                config,
                args.port,
                history_limit=args.history_limit,
                exit_with_parent=args.exit_with_parent,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
