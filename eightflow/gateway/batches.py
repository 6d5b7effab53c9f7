"""Provider Batch APIs through litellm: files, batches, results, batch-rate prices.

Only the gateway imports litellm, so everything that touches a provider's Files and
Batches endpoints lives here; the wave logic (``eightflow.batch.batch_api``) sees plain
data. Two backends share one interface:

* :class:`ProviderBatches` uploads a JSONL file and creates a batch with litellm's
  ``acreate_file`` / ``acreate_batch``, polls with ``aretrieve_batch`` and reads answers
  with ``afile_content`` (OpenAI and Azure; any OpenAI-compatible ``api_base``);
* :class:`InProcessBatches` simulates a batch for in-process models (``local/...``): the
  lines are answered by the same litellm call path, so the flag works with no key.

:data:`active_router` is the per-run hook in the call path: when set, ``ModelGateway``
hands each request to it instead of calling the model, and the router answers once the
request's batch has returned (or returns ``None``: "send it online").
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import litellm

from eightflow.gateway.errors import provider_of
from eightflow.runtime.budget import Reservation

# litellm arguments that steer the client, not the model: never part of a batch line.
_CLIENT_KEYS = frozenset(
    {"num_retries", "max_retries", "timeout", "metadata", "api_base", "api_key"}
)
# Providers whose batches litellm 1.110 can create (acreate_batch's provider list).
BATCH_PROVIDERS = frozenset({"openai", "azure"})
SIMULATED_PROVIDERS = frozenset({"local"})
# Providers' documented Batch API discount, used when litellm's price map has no batch price.
DOCUMENTED_DISCOUNT = 0.5
MAX_LINES_PER_FILE = 50_000  # OpenAI: 50,000 requests per batch
MAX_BYTES_PER_FILE = 190 * 1024 * 1024  # OpenAI: 200 MB per input file, with headroom


class BatchNotSupported(ValueError):
    """The model's provider has no Batch API that eightflow can drive."""


def check_batch_support(model: str) -> None:
    """Raise :class:`BatchNotSupported` naming the model unless its provider has batches."""
    provider = provider_of(model)
    if provider in BATCH_PROVIDERS or provider in SIMULATED_PROVIDERS:
        return
    why = {
        "anthropic": "litellm 1.110 can read Anthropic message batches but not create them",
    }.get(provider, f"litellm has no Batch API for the '{provider}' provider")
    raise BatchNotSupported(
        f"--mode batch-api is not available for model '{model}' ({why}); "
        f"supported: {', '.join(sorted(BATCH_PROVIDERS))}/* and the embedded local/*; "
        "use --mode online"
    )


# -- requests, lines, answers ---------------------------------------------------------------


def custom_id_of(request: dict[str, Any], step: str | None) -> str:
    """A stable id for one request: re-rendering the same call gives the same id.

    It names the endpoint too (a short hash of the API base): an open batch is taken back
    only by a run against the endpoint that holds it, never matched from another one,
    found unpollable there, and re-sent online at full price.
    """
    body = {k: v for k, v in request.items() if k not in _CLIENT_KEYS}
    blob = json.dumps({"step": step, "body": body}, sort_keys=True, default=str)
    return (
        f"ef-{endpoint_tag(request.get('api_base'))}-"
        + hashlib.sha256(blob.encode()).hexdigest()[:40]
    )


def endpoint_tag(api_base: str | None) -> str:
    """8 hex characters naming an API base (the provider's own URL: ``None``)."""
    base = (api_base or "").strip().rstrip("/").lower()
    return hashlib.sha256(f"api_base={base}".encode()).hexdigest()[:8]


def line_body(request: dict[str, Any]) -> dict[str, Any]:
    """The chat-completions body of a batch line: the model without litellm's prefix."""
    body = {k: v for k, v in request.items() if k not in _CLIENT_KEYS}
    body["model"] = str(request["model"]).split("/", 1)[-1]
    return body


def batch_costs(model: str, tokens_in: int, tokens_out: int) -> tuple[float | None, float | None]:
    """(cost at the batch rate, cost of the same call online); None when unpriced."""
    if provider_of(model) in SIMULATED_PROVIDERS:
        return 0.0, 0.0
    try:
        online_in, online_out = litellm.cost_per_token(
            model=model, prompt_tokens=tokens_in, completion_tokens=tokens_out
        )
        online: float | None = float(online_in + online_out)
    except Exception:
        online = None
    info = _price_info(model)
    batch_in, batch_out = (
        info.get("input_cost_per_token_batches"),
        info.get("output_cost_per_token_batches"),
    )
    if batch_in is not None and batch_out is not None:
        return float(batch_in) * tokens_in + float(batch_out) * tokens_out, online
    return (online * DOCUMENTED_DISCOUNT if online is not None else None), online


def batch_input_price(model: str, tokens_in: int) -> float | None:
    """What a line's prompt is sure to cost at the batch rate (for reserving budget)."""
    cost, _ = batch_costs(model, tokens_in, 0)
    return cost


def _price_info(model: str) -> dict[str, Any]:
    for name in (model, model.split("/", 1)[-1]):
        info = litellm.model_cost.get(name)
        if info:
            return dict(info)
    return {}


def response_from_body(body: dict[str, Any], cost: float | None) -> Any:
    """A litellm response built from a batch line's answer, priced at the batch rate."""
    response = litellm.ModelResponse(**{k: v for k, v in body.items() if k != "service_tier"})
    response._hidden_params["response_cost"] = cost
    return response


# -- backends -------------------------------------------------------------------------------


@dataclass
class BatchStatus:
    state: str  # validating | in_progress | finalizing | completed | failed | expired | ...
    batch_id: str = ""
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None

    @property
    def done(self) -> bool:
        return self.state in ("completed", "failed", "expired", "cancelled", "lost")


@dataclass
class LineResult:
    custom_id: str
    body: dict[str, Any] | None = None  # the chat completion, when the line succeeded
    error: str | None = None  # why it did not ("expired", a provider error)


class BatchBackend(Protocol):
    async def submit(
        self, lines: list[tuple[str, dict[str, Any]]], metadata: dict[str, str]
    ) -> tuple[str, str]: ...

    async def status(self, batch_id: str) -> BatchStatus: ...

    async def results(self, status: BatchStatus) -> dict[str, LineResult]: ...


class ProviderBatches:
    """A provider's Files + Batches API through litellm."""

    def __init__(self, model: str, api_base: str | None, api_key: str | None) -> None:
        self.provider = provider_of(model)
        self._kw: dict[str, Any] = {"custom_llm_provider": self.provider}
        if api_base:
            self._kw["api_base"] = api_base
        if api_key:
            self._kw["api_key"] = api_key

    async def submit(
        self, lines: list[tuple[str, dict[str, Any]]], metadata: dict[str, str]
    ) -> tuple[str, str]:
        jsonl = "".join(
            json.dumps(
                {
                    "custom_id": cid,
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": line_body(req),
                }
            )
            + "\n"
            for cid, req in lines
        )
        uploaded = await litellm.acreate_file(
            file=("eightflow-batch.jsonl", jsonl.encode()), purpose="batch", **self._kw
        )
        batch = await litellm.acreate_batch(
            completion_window="24h",
            endpoint="/v1/chat/completions",
            input_file_id=uploaded.id,
            metadata=metadata,
            **self._kw,
        )
        return str(batch.id), str(uploaded.id)

    async def status(self, batch_id: str) -> BatchStatus:
        batch = await litellm.aretrieve_batch(batch_id=batch_id, **self._kw)
        counts = batch.request_counts
        return BatchStatus(
            state=str(batch.status),
            batch_id=batch_id,
            total=int(getattr(counts, "total", 0) or 0),
            completed=int(getattr(counts, "completed", 0) or 0),
            failed=int(getattr(counts, "failed", 0) or 0),
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
        )

    async def results(self, status: BatchStatus) -> dict[str, LineResult]:
        found: dict[str, LineResult] = {}
        for file_id in (status.output_file_id, status.error_file_id):
            if not file_id:
                continue
            content = await litellm.afile_content(file_id=file_id, **self._kw)
            for raw in content.content.decode().splitlines():
                if raw.strip():
                    line = _parse_line(raw)
                    found[line.custom_id] = line
        return found


def _parse_line(raw: str) -> LineResult:
    record = json.loads(raw)
    cid = str(record.get("custom_id"))
    response = record.get("response") or {}
    error = record.get("error")
    body = response.get("body") if isinstance(response, dict) else None
    if error or response.get("status_code") != 200 or not isinstance(body, dict):
        message = (error or {}).get("message") if isinstance(error, dict) else None
        code = (error or {}).get("code") if isinstance(error, dict) else None
        return LineResult(cid, error=f"{code or response.get('status_code')}: {message or body}")
    return LineResult(cid, body=body)


@dataclass
class _LocalBatch:
    lines: list[tuple[str, dict[str, Any]]]
    answers: dict[str, LineResult] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


class InProcessBatches:
    """A simulated Batch API for in-process models: same waves, answered by litellm."""

    provider = "local"

    def __init__(self, concurrency: int = 8) -> None:
        self._batches: dict[str, _LocalBatch] = {}
        self._slots = asyncio.Semaphore(concurrency)

    async def submit(
        self, lines: list[tuple[str, dict[str, Any]]], metadata: dict[str, str]
    ) -> tuple[str, str]:
        batch_id = f"local-batch-{uuid.uuid4().hex[:16]}"
        batch = _LocalBatch(lines)
        batch.task = asyncio.get_running_loop().create_task(self._answer_all(batch))
        self._batches[batch_id] = batch
        return batch_id, f"local-file-{batch_id[12:]}"

    async def _answer_all(self, batch: _LocalBatch) -> None:
        async def one(cid: str, request: dict[str, Any]) -> None:
            async with self._slots:
                try:
                    response = await litellm.acompletion(**request)
                    batch.answers[cid] = LineResult(cid, body=response.model_dump())
                except Exception as exc:
                    batch.answers[cid] = LineResult(cid, error=f"{type(exc).__name__}: {exc}")

        await asyncio.gather(*(one(cid, req) for cid, req in batch.lines))

    async def status(self, batch_id: str) -> BatchStatus:
        batch = self._batches.get(batch_id)
        if batch is None:  # simulated batches live as long as their process
            return BatchStatus(state="lost", batch_id=batch_id)
        done = batch.task is not None and batch.task.done()
        failed = sum(1 for a in batch.answers.values() if a.error)
        return BatchStatus(
            state="completed" if done else "in_progress",
            batch_id=batch_id,
            total=len(batch.lines),
            completed=len(batch.answers) - failed,
            failed=failed,
        )

    async def results(self, status: BatchStatus) -> dict[str, LineResult]:
        batch = self._batches.get(status.batch_id)
        return dict(batch.answers) if batch is not None else {}


def backend_for(model: str, api_base: str | None, api_key: str | None) -> BatchBackend:
    check_batch_support(model)
    if provider_of(model) in SIMULATED_PROVIDERS:
        return InProcessBatches()
    return ProviderBatches(model, api_base, api_key)


# -- the hook in the call path --------------------------------------------------------------


class CallRouter(Protocol):
    async def route(self, request: dict[str, Any], model: str) -> tuple[Any, Reservation] | None:
        """The response and the budget reservation it settles; None: send it online."""
        ...


active_router: ContextVar[CallRouter | None] = ContextVar("eightflow_call_router", default=None)
