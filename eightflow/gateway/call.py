"""The call path: render, choose a model, cache, limit, budget, call litellm, record.

Every model call in eightflow goes through :class:`ModelGateway`. It renders the prompt,
picks the model (fallback > run > step > prompt > settings), bounds concurrency, reserves
and settles the run's budget, serves repeated requests from the response cache, calls
litellm with its own retries off (Prefect's task retries are the one retry layer), maps
provider errors to ``ModelTemporaryError`` / ``ModelPermanentError``, and appends a
``ModelCall`` record (tokens, USD cost, latency, prompt id/version/hash) to the current
step's trace.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import litellm
from pydantic import BaseModel

from eightflow.errors import ModelOutputError, ModelTemporaryError
from eightflow.gateway import exchange, unlogged
from eightflow.gateway.batches import active_router
from eightflow.gateway.call_record import parse_answer, record_call
from eightflow.gateway.embedded import ensure_local_provider
from eightflow.gateway.endpoints import key_allowed_for
from eightflow.gateway.errors import budget_cause, map_error, provider_of
from eightflow.gateway.errors import headers_of as _headers_of
from eightflow.gateway.keys import provider_key
from eightflow.gateway.reask import reask_messages, remember_invalid
from eightflow.gateway.request import (
    _as_text,
    _cache_key,
    _context_window,
    _cost_of,
    _estimate,
    _from_context,
    _response_format,
    _token_estimate,
)
from eightflow.prompts import Prompt, PromptRegistry
from eightflow.runtime.budget import Budget, Reservation
from eightflow.runtime.context import Context
from eightflow.runtime.limiter import CallLimiter
from eightflow.runtime.run_state import RunState, current_run, current_step
from eightflow.settings import get_settings


class Generation(BaseModel):
    """A model's answer with what it cost. ``output`` is text or the prompt's schema."""

    output: Any
    text: str
    model: str
    provider: str
    prompt: str | None
    tokens_in: int
    tokens_out: int
    cost_usd: float | None
    latency_ms: float
    cache_hit: bool = False


class ModelGateway:
    """The door to every model. One per workflow; run state comes from the context."""

    def __init__(
        self,
        model: str | None = None,
        *,
        prompts: PromptRegistry | None = None,
        api_base: str | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self.default_model = model
        self.prompts = prompts or PromptRegistry()
        self.api_base = api_base
        self.timeout_s = timeout_s
        self._limiter = CallLimiter(8)  # used outside a run only
        ensure_local_provider()
        unlogged.silence_error_banner()

    # -- public API -----------------------------------------------------------------------

    async def generate(
        self, prompt: Prompt | str, input: Any = None, *, model: str | None = None, **variables: Any
    ) -> Any:
        """Text, or a validated pydantic object when the prompt declares an output schema.

        ``input`` fills the prompt's positional input; a ``Context`` instead fills every
        variable the prompt names from what the context holds.
        """
        return (await self.complete(prompt, input, model=model, **variables)).output

    def generate_sync(
        self, prompt: Prompt | str, input: Any = None, *, model: str | None = None, **variables: Any
    ) -> Any:
        """``generate`` for sync handlers (they run in a worker thread)."""
        run = current_run.get()
        loop = run.loop if run is not None else None
        coro = self.generate(prompt, input, model=model, **variables)
        if loop is not None and loop.is_running():
            return asyncio.run_coroutine_threadsafe(coro, loop).result()
        return asyncio.run(coro)

    async def complete(
        self, prompt: Prompt | str, input: Any = None, *, model: str | None = None, **variables: Any
    ) -> Generation:
        """Like ``generate``, with tokens, cost, model and latency alongside the output."""
        if isinstance(prompt, str):
            prompt = self.prompts.get(prompt)
        if isinstance(input, Context):
            input, variables = None, {**_from_context(prompt, input), **variables}
        messages = prompt.render(_as_text(input), **variables)
        run = current_run.get()
        chosen = self.resolve_model(prompt, model)
        params = {k: v for k, v in prompt.params.items() if k != "timeout"}
        key = _cache_key(prompt, chosen, params, messages, self._api_base(chosen))
        cache = run.cache if run is not None else None
        schema_name = prompt.output_schema.__name__ if prompt.output_schema else ""
        reask = reask_messages(run, current_step.get(), key, messages, schema_name, prompt.ref)
        if reask is not None:
            messages = reask  # the last answer was invalid: say why (cached under the original)
        elif cache is not None:
            hit = cache.get(key)
            if hit is not None and run is not None:
                return self._from_cache(hit, prompt, chosen, run, messages)
        budget = run.budget if run is not None else Budget()
        limiter = run.limiter if run is not None else self._limiter
        estimate = _estimate(chosen, messages, budget)
        held: list[Reservation] = [_NO_CALL]  # _send puts the call's reservation here
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        try:
            request = self._request(prompt, chosen, messages, params, await provider_key(chosen))
            request["metadata"]["eightflow_cache_key"] = key  # replay finds long answers by it
            response, served = await self._send(
                run, limiter, request, chosen, budget, estimate, held
            )
        except BaseException as exc:
            reservation = held[0]
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
                await asyncio.shield(budget.arelease(reservation))
                raise
            over_budget = budget_cause(exc)
            if over_budget is not None:
                # Fatal for the run, wherever it was raised (the reservation, or a provider
                # litellm wrapped it for): never mapped to a retryable model error.
                await budget.arelease(reservation)
                if over_budget is exc:
                    raise
                raise over_budget from None
            error = map_error(exc, chosen)
            charged = 0.0
            if isinstance(error, ModelTemporaryError) and error.billable and reservation.counted:
                await budget.acharge(reservation)  # the provider may have billed it
                charged = reservation.cost_usd
            else:
                await budget.arelease(reservation)  # refused up front (429, 4xx): not billed
            record_call(prompt, chosen, started, t0, cost=charged, error=error)
            raise error from None
        reservation = held[0]
        usage = getattr(response, "usage", None)
        tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
        tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
        cached = getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", None)
        cost = _cost_of(response, served)
        text = response.choices[0].message.content or ""
        call = record_call(
            prompt,
            served,
            started,
            t0,
            tokens=(tokens_in, tokens_out, cached),
            cost=cost,
            text=text,
        )
        output_error: ModelOutputError | None = None
        try:
            output = parse_answer(prompt, text, chosen, call, messages)
        except ModelOutputError as invalid:
            remember_invalid(run, current_step.get(), key, text, invalid.feedback)
            output, output_error = None, invalid
        if cache is not None and served == chosen and output_error is None:
            # Before settling: the call that crosses the cap was paid for, and a re-run must
            # find its answer here rather than pay for it again.
            cache.put(
                key,
                {
                    "text": text,
                    "model": chosen,
                    "tokens_in": tokens_in,
                    "tokens_out": tokens_out,
                    "cost_usd": cost,
                },
            )
        await budget.asettle(reservation, tokens_in + tokens_out, cost)  # raises past the cap
        if output_error is not None:
            raise output_error
        return Generation(
            output=output,
            text=text,
            model=chosen,
            provider=provider_of(chosen),
            prompt=prompt.ref,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost,
            latency_ms=call.latency_ms,
        )

    async def _send(
        self,
        run: RunState | None,
        limiter: CallLimiter,
        request: dict[str, Any],
        model: str,
        budget: Budget,
        estimate: tuple[int, float | None],
        held: list[Reservation],
    ) -> tuple[Any, str]:
        """Make the call; returns the response and the model that answered.

        The budget is reserved only once a limiter slot is held: a call queued behind the
        limiter while the cap was reached must not go out afterwards. The reservation is
        left in ``held[0]`` for the caller to settle, charge or release. The limiter hears
        of every 429 and every answer, and adapts its slots. To an OpenAI-compatible base
        URL, the HTTP request itself takes the slot (:mod:`eightflow.gateway.exchange`).
        """
        replay = run.replay if run is not None else None
        if replay is not None and replay.serves(current_step.get()):
            # Served from the ledger through litellm's provider path: not a model call.
            request["model"] = f"replay/{model}"
            request.pop("api_base", None)
            request.pop("api_key", None)
            return await unlogged.acompletion(**request), request["model"]
        router = active_router.get()
        if router is not None:  # --mode batch-api: the call waits for its wave's batch
            routed = await router.route(request, model)
            if routed is not None:
                if run is not None:
                    run.model_calls += 1
                held[0] = routed[1]
                return routed[0], model

        async def reserve() -> Reservation:  # once a slot is held
            reservation = await budget.areserve(*estimate)
            if run is not None:
                run.model_calls += 1
            return reservation

        if exchange.applies(model, request):  # the HTTP request itself takes the slot
            entry = exchange.Exchange(limiter, model, _token_estimate(request), reserve)
            try:
                sent = exchange.acompletion_in_exchange(unlogged.acompletion, request, entry)
                response = await sent
            finally:
                held[0] = entry.reservation or _NO_CALL
            if not entry.requests and run is not None:
                run.model_calls += 1  # litellm sent it past the client (logged there)
            return response, model
        async with limiter.slot(model, _token_estimate(request)) as lease:
            held[0] = await reserve()
            try:
                response = await unlogged.acompletion(**request)
            except Exception as exc:
                if getattr(exc, "status_code", None) == 429:
                    limiter.rate_limited()
                    lease.refused(_headers_of(exc))
                raise
            limiter.succeeded()
            usage = getattr(response, "usage", None)
            used = int(getattr(usage, "total_tokens", 0) or 0)
            hidden = getattr(response, "_hidden_params", None) or {}
            lease.answered(used, hidden.get("additional_headers"))
            return response, model

    def count_tokens(self, text: str, model: str | None = None) -> int:
        """Tokens in ``text`` for ``model`` (tiktoken's bundled encoding as the fallback)."""
        try:
            return int(litellm.token_counter(model=model or "gpt-4o-mini", text=text))
        except Exception:
            return int(litellm.token_counter(text=text))

    def context_window(self, model: str | None = None) -> int:
        """The model's input window in tokens; a conservative 8k when unknown."""
        return _context_window(model or self.resolve_model(None, None))

    def resolve_model(self, prompt: Prompt | None, explicit: str | None) -> str:
        """fallback override > explicit > run > step > gateway > prompt > EIGHTFLOW_MODEL."""
        scope = current_step.get()
        run = current_run.get()
        for candidate in (
            scope.model_override if scope else None,
            explicit,
            run.model if run else None,
            scope.step_model if scope else None,
            self.default_model,
            prompt.model if prompt else None,
        ):
            if candidate:
                return candidate
        return get_settings().model

    # -- internals ------------------------------------------------------------------------

    def _request(
        self,
        prompt: Prompt,
        model: str,
        messages: list[dict[str, str]],
        params: dict[str, Any],
        key: str | None,
    ) -> dict[str, Any]:
        scope = current_step.get()
        settings = get_settings()
        request: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "num_retries": 0,  # one retry layer: Prefect's
            "max_retries": 0,  # and none in the provider SDK either
            "timeout": prompt.params.get("timeout") or self.timeout_s or settings.request_timeout_s,
            "metadata": {
                "eightflow_prompt_id": prompt.id,
                "eightflow_prompt_version": prompt.version,
                "eightflow_prompt_hash": prompt.hash,
                "eightflow_step": scope.record.name if scope else None,
                "eightflow_model": model,
            },
            **params,
        }
        if prompt.output_schema is not None:
            request["response_format"] = _response_format(prompt.output_schema)
        api_base = self._api_base(model)
        if api_base:
            request["api_base"] = api_base
        if key and key_allowed_for(provider_of(model), api_base):
            # A stored key goes only to its provider's own URL or a base the operator set.
            request["api_key"] = key
        elif "api_base" in request:
            # Self-hosted OpenAI-compatible servers often need no key, but the SDK insists.
            request["api_key"] = "no-key"
        return request

    def _api_base(self, model: str) -> str | None:
        """The base URL a call to ``model`` goes to (None: the provider's own)."""
        if provider_of(model) == "local":
            return None
        run = current_run.get()
        return self.api_base or (run.api_base if run else None) or get_settings().api_base

    def _from_cache(
        self,
        hit: dict[str, Any],
        prompt: Prompt,
        model: str,
        run: RunState,
        messages: list[dict[str, str]],
    ) -> Generation:
        run.cache_hits += 1
        call = record_call(
            prompt,
            model,
            datetime.now(UTC),
            time.perf_counter(),
            tokens=(hit["tokens_in"], hit["tokens_out"], None),
            cost=0.0,
            text=hit["text"],
            cache_hit=True,
        )
        return Generation(
            output=parse_answer(prompt, hit["text"], model, call, messages),
            text=hit["text"],
            model=model,
            provider=provider_of(model),
            prompt=prompt.ref,
            tokens_in=hit["tokens_in"],
            tokens_out=hit["tokens_out"],
            cost_usd=0.0,
            latency_ms=call.latency_ms,
            cache_hit=True,
        )


_NO_CALL = Reservation(0, 0.0, counted=False)
