"""What a model call leaves behind: its ``ModelCall`` record on the step's trace, and its
answer parsed into the prompt's schema with secrets out of every string.

Split from :mod:`eightflow.gateway.call` (the call path itself); a served answer, a cached
one and a failed call are all recorded here, the same way.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from eightflow.errors import BudgetExceeded, ModelError, ModelOutputError
from eightflow.gateway.answers import clean_answer
from eightflow.gateway.errors import provider_of
from eightflow.gateway.reask import validation_feedback
from eightflow.gateway.request import _strip_fences
from eightflow.prompts import Prompt
from eightflow.runtime.records import ModelCall
from eightflow.runtime.run_state import current_step


def parse_answer(
    prompt: Prompt,
    text: str,
    model: str,
    call: ModelCall,
    messages: list[dict[str, str]],
) -> Any:
    """The answer as the prompt's schema (or text), with secrets out of every string."""
    schema = prompt.output_schema
    if schema is None:
        clean = clean_answer(text, messages)
        if clean != text:  # the ledger keeps the answer as it left the gateway
            call.response_text = clean
        return clean
    try:
        answer = schema.model_validate_json(_strip_fences(text))
    except ValidationError as exc:
        error = ModelOutputError(
            f"{model} answered {prompt.ref} outside its schema {schema.__name__}: "
            f"{exc.errors()[0].get('msg', exc)}",
            model=model,
            provider=provider_of(model),
            kind="ValidationError",
            feedback=validation_feedback(exc),
        )
        call.error, call.error_type = str(error), type(error).__name__
        raise error from None
    clean = clean_answer(answer, messages)
    if clean is not answer:
        call.response_text = clean.model_dump_json()
    return clean


def record_call(
    prompt: Prompt,
    model: str,
    started: datetime,
    t0: float,
    *,
    tokens: tuple[int, int, int | None] = (0, 0, None),
    cost: float | None = None,
    text: str | None = None,
    error: ModelError | BudgetExceeded | None = None,
    cache_hit: bool = False,
) -> ModelCall:
    scope = current_step.get()
    call = ModelCall(
        model=model,
        provider=provider_of(model),
        prompt_id=prompt.id,
        prompt_version=prompt.version,
        prompt_hash=prompt.hash,
        tokens_in=tokens[0],
        tokens_out=tokens[1],
        tokens_cached=tokens[2],
        cost_usd=cost,
        latency_ms=(time.perf_counter() - t0) * 1000,
        attempt=scope.attempt if scope else 1,
        started=started,
        error=str(error) if error else None,
        error_type=type(error).__name__ if error else None,
        cache_hit=cache_hit,
        output_digest=hashlib.sha256(text.encode()).hexdigest()[:16] if text else None,
        response_text=text,
    )
    if scope is not None:
        scope.record.add_call(call)
    return call
