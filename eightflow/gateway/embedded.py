"""The ``local`` provider: the embedded offline model, registered in litellm."""

from __future__ import annotations

import json
from typing import Any

from eightflow.gateway.adapter import register_provider
from eightflow.providers import ProviderFault, ProviderRequest
from eightflow.settings import EMBEDDED_MODEL


def _embedded_provider(request: ProviderRequest) -> str:
    """The ``local`` provider: real, deterministic work by ``eightflow.embedded``."""
    from eightflow.embedded import EmbeddedModel, extract_document

    engine = EmbeddedModel()
    task = request.prompt_id or engine.infer_task(request.schema_name)
    if task is None:
        raise ProviderFault(
            "BadRequestError",
            "the embedded model answers only the prompts "
            f"{', '.join(engine.ALL_TASKS)}; use --model with a hosted model for others",
        )
    try:
        # The whole message too: the planner reads its <registry> and <state> blocks.
        answer = engine.respond(
            task, extract_document(request.user_text), {"message": request.user_text}
        )
    except ValueError as exc:
        raise ProviderFault("BadRequestError", str(exc)) from None
    return json.dumps(answer, ensure_ascii=False) if request.schema else _plain(answer)


def _plain(answer: Any) -> str:
    if isinstance(answer, dict) and answer:
        first = next(iter(answer.values()))
        if isinstance(first, str):
            return first
    return json.dumps(answer, ensure_ascii=False)


_LOCAL_REGISTERED = False


def ensure_local_provider() -> None:
    """Register the ``local`` provider with a zero price (cost 0.0, not None). Idempotent."""
    global _LOCAL_REGISTERED
    if _LOCAL_REGISTERED:
        return
    register_provider(
        "local",
        _embedded_provider,
        models=(EMBEDDED_MODEL,),
        input_cost_per_token=0.0,
        output_cost_per_token=0.0,
    )
    _LOCAL_REGISTERED = True
