"""Plain ``Provider`` callables plugged into litellm as custom providers.

A provider is ``(ProviderRequest) -> str``; the adapter gives it litellm's
``CustomLLM`` interface, so in-process models (the embedded one, the fake model in
tests, replay) take exactly the same call path as hosted ones.
"""

from __future__ import annotations

import asyncio
from typing import Any

import litellm

from eightflow.gateway.keys import _PLUGGED
from eightflow.providers import Provider, ProviderFault, ProviderRequest


class _PluginHandler(litellm.CustomLLM):
    """Adapts a plain ``Provider`` callable to litellm's ``CustomLLM`` interface."""

    def __init__(self, name: str, provider: Provider) -> None:
        super().__init__()
        self.name = name
        self.provider = provider

    def completion(self, model: str, messages: list[Any], *args: Any, **kwargs: Any) -> Any:
        return self._answer(model, messages, kwargs)

    async def acompletion(self, model: str, messages: list[Any], *args: Any, **kwargs: Any) -> Any:
        # A provider may do real CPU work (the embedded model does): keep the loop free.
        return await asyncio.to_thread(self._answer, model, messages, kwargs)

    def _answer(self, model: str, messages: list[Any], kwargs: dict[str, Any]) -> Any:
        optional = dict(kwargs.get("optional_params") or {})
        metadata = (kwargs.get("litellm_params") or {}).get("metadata") or {}
        fmt = optional.pop("response_format", None) or {}
        schema = fmt.get("json_schema") or {}
        request = ProviderRequest(
            model=f"{self.name}/{model}",
            messages=list(messages),
            schema=schema.get("schema"),
            schema_name=schema.get("name"),
            prompt_id=metadata.get("eightflow_prompt_id"),
            params=optional,
            metadata=dict(metadata),
        )
        try:
            content = self.provider(request)
        except ProviderFault as fault:
            raise _litellm_error(fault, model, self.name) from None
        prompt_text = "\n".join(str(m.get("content", "")) for m in messages)
        usage = litellm.Usage(
            prompt_tokens=litellm.token_counter(text=prompt_text),
            completion_tokens=litellm.token_counter(text=content),
        )
        usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
        return litellm.ModelResponse(
            model=model,
            choices=[
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": content},
                }
            ],
            usage=usage,
        )


def _litellm_error(fault: ProviderFault, model: str, provider: str) -> Exception:
    cls = getattr(litellm, fault.kind, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        return litellm.APIConnectionError(message=fault.message, llm_provider=provider, model=model)
    if cls is litellm.Timeout:
        return cls(message=fault.message, model=model, llm_provider=provider)
    try:
        return cls(message=fault.message, llm_provider=provider, model=model)  # type: ignore[call-arg]
    except TypeError:
        return cls(fault.message)


def register_provider(
    name: str,
    provider: Provider,
    *,
    models: tuple[str, ...] = (),
    input_cost_per_token: float | None = None,
    output_cost_per_token: float | None = None,
    max_input_tokens: int = 8192,
) -> None:
    """Route ``name/...`` models to ``provider``; price ``models`` if costs are given."""
    _PLUGGED.add(name)
    litellm.custom_provider_map = [
        *[p for p in litellm.custom_provider_map if p.get("provider") != name],
        {"provider": name, "custom_handler": _PluginHandler(name, provider)},
    ]
    if input_cost_per_token is not None and output_cost_per_token is not None:
        for model in models:
            litellm.register_model(
                {
                    model: {
                        "litellm_provider": name,
                        "mode": "chat",
                        "max_input_tokens": max_input_tokens,
                        "input_cost_per_token": input_cost_per_token,
                        "output_cost_per_token": output_cost_per_token,
                        "cache_creation_input_token_cost": 0.0,
                        "cache_read_input_token_cost": 0.0,
                    }
                }
            )
