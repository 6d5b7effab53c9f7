"""What a call sends and what it costs: request parts built once, cache keys, estimates.

Pure helpers of the call path (:mod:`eightflow.gateway.call`), kept apart so that module
stays the story of one call.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import litellm
from litellm.utils import type_to_response_format_param
from pydantic import BaseModel

from eightflow.gateway.errors import provider_of
from eightflow.gateway.pricing import is_priced, load_price_file
from eightflow.prompts import Prompt
from eightflow.runtime.budget import Budget
from eightflow.runtime.context import Context
from eightflow.runtime.run_state import current_step


def _response_format(schema: type[BaseModel]) -> dict[str, Any]:
    """litellm's response_format for a pydantic class, built once per class.

    Passing the class makes litellm rebuild its strict JSON schema on every call, about a
    millisecond of CPU each; the dict form is the same request, computed once. Each call
    gets a copy because litellm may adjust the dict for a provider: parsed from the cached
    JSON text, several times cheaper than ``copy.deepcopy`` of the nested dict.
    """
    return dict(json.loads(_response_format_json(schema)))


@functools.lru_cache(maxsize=256)
def _response_format_json(schema: type[BaseModel]) -> str:
    return json.dumps(type_to_response_format_param(schema) or {})


@functools.lru_cache(maxsize=128)
def _context_window(model: str) -> int:
    if provider_of(model) == "local":
        return 8192
    try:
        info = litellm.get_model_info(model)
        return int(info.get("max_input_tokens") or 8192)
    except Exception:
        return 8192


def _from_context(prompt: Prompt, context: Context) -> dict[str, Any]:
    """A prompt's variables from a ``Context`` (the seed's ``generate(prompt, context)``).

    Every variable the prompt names that the context holds; the prompt's positional input,
    when the context has no value of that name, is the context's document.
    """
    names = set(prompt.variables) | prompt.template_variables()
    values = context.prompt_variables(prompt.id, names)
    if prompt.input and prompt.input not in values and "document" in context:
        values[prompt.input] = _as_text(context["document"])
    return values


def _as_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else value


def _strip_fences(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped


def _cache_key(
    prompt: Prompt,
    model: str,
    params: dict[str, Any],
    messages: list[dict[str, str]],
    api_base: str | None = None,
) -> str:
    """The request's cache key; the base URL is part of it, so an answer from one
    endpoint is never served for a request to another."""
    scope = current_step.get()
    blob = json.dumps(
        {
            "step": scope.record.name if scope else None,
            "prompt": prompt.ref,
            "hash": prompt.hash,
            "model": model,
            "api_base": api_base,
            "params": params,
            "messages": messages,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _estimate(
    model: str, messages: list[dict[str, str]], budget: Budget
) -> tuple[int, float | None]:
    """What a call is sure to cost: its prompt tokens, priced. Skipped when unbudgeted."""
    if not budget.limited:
        return 0, None
    load_price_file()  # a model priced there may have been checked through the memo only
    text = "\n".join(m["content"] for m in messages)
    try:
        tokens = int(litellm.token_counter(model=model, text=text))
    except Exception:
        tokens = len(text) // 4
    try:
        cost_in, _ = litellm.cost_per_token(model=model, prompt_tokens=tokens, completion_tokens=0)
    except Exception:
        cost_in = None
    return tokens, cost_in


DEFAULT_ANSWER_TOKENS = 256  # a call's answer, for token limits, when it sets no max_tokens


def _token_estimate(request: dict[str, Any]) -> int:
    """Tokens a call will use, for token limits: prompt characters / 4 plus the answer's
    ``max_tokens`` (settled with the provider's count afterwards)."""
    chars = sum(len(str(m.get("content") or "")) for m in request.get("messages") or [])
    answer = request.get("max_tokens") or request.get("max_completion_tokens")
    return chars // 4 + int(answer or DEFAULT_ANSWER_TOKENS)


def _cost_of(response: Any, model: str) -> float | None:
    """litellm's price for the call; None (never 0) when the model is unpriced."""
    if provider_of(model) in ("local", "replay"):
        return 0.0  # the embedded model is free, and so is a replayed answer
    if not is_priced(model):
        return None  # priced by the requested model, never by the name a server answers with
    hidden = getattr(response, "_hidden_params", {}) or {}
    cost = hidden.get("response_cost")
    if cost is None:
        try:
            cost = litellm.completion_cost(completion_response=response, model=model)
        except Exception:
            return None
    return float(cost) if cost is not None else None
