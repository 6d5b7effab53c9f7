"""litellm's price of a plain chat answer, remembered per model instead of recomputed.

After every answer litellm prices it (``litellm.response_cost_calculator``): it resolves
the model's name against its price map, scans the entry for tiered, regional, service-tier
and per-token-kind prices, and builds a cost breakdown. For eightflow's calls that is about
6% of a batch's CPU (py-spy, docs/benchmarks.md), spent to multiply two token counts by two
rates that do not change between calls.

So, for the gateway's calls only (:func:`pricing_answers`), the first answer of each
(model, provider, answering model) is priced by litellm as usual, and its price is checked
against ``prompt_tokens x input_cost_per_token + completion_tokens x output_cost_per_token``
of a price-map entry with flat prices only. When they agree, later answers of that kind
are priced by that formula, reading the entry's two rates again on every call (a price
registered later is seen at once). Anything else goes to litellm, as before:

- an answer with cached, audio, image or reasoning tokens, or built-in tool use;
- a request with custom prices, a base model, a router deployment, a service tier, a
  region or a cost-relevant option;
- a model whose entry has a price that depends on more than the two token counts (tiers
  above a context size, ranges, off-peak hours, per-second or per-character rates), or
  whose litellm price did not match the formula (then never again for that model,
  answering model and served service tier).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import litellm

_active: ContextVar[bool] = ContextVar("eightflow_flat_cost", default=False)
_IN, _OUT = "input_cost_per_token", "output_cost_per_token"
# Price-map keys that cannot change a plain answer's price: token kinds the fast path
# requires to be zero, service tiers (the served tier is part of the verdict's key), and
# features eightflow's calls do not use (batches, built-in tools). Never a size tier
# (``..._above_200k_tokens``): those depend on the token counts.
_INERT = ("cache_read", "cache_creation", "audio", "image", "reasoning", "video", "batches",
          "priority", "flex", "per_query")  # fmt: skip
_PRICE_SCHEDULES = ("pricing", "tier")
_PLAIN_USAGE = frozenset({"prompt_tokens", "completion_tokens", "total_tokens", "text_tokens"})
_RISKY_KWARGS = (
    "base_model",
    "custom_pricing",
    "router_model_id",
    "pricing_provider",
    "service_tier",
    "data_residency",
    "vertex_location",
    "region_name",
    "custom_cost_per_token",
    "custom_cost_per_second",
    "requested_model_info_override",
    "standard_built_in_tools_params",
)
_UNKNOWN = object()
# (model, provider, answering model, call type) -> the price-map entry's name, or None
_verdicts: dict[tuple[Any, ...], str | None] = {}
stats = {"fast": 0, "litellm": 0}  # how answers were priced (for tests and benches)


@contextmanager
def pricing_answers() -> Iterator[None]:
    """Within it, this context's answers may be priced by the remembered formula."""
    token = _active.set(True)
    try:
        yield
    finally:
        _active.reset(token)


def _flat_rates(name: str) -> tuple[float, float] | None:
    entry = litellm.model_cost.get(name)
    if not isinstance(entry, dict):
        return None
    rates = entry.get(_IN), entry.get(_OUT)
    if not all(isinstance(r, int | float) and math.isfinite(r) and r >= 0 for r in rates):
        return None
    for key, value in entry.items():
        if any(word in key for word in _PRICE_SCHEDULES) and value:
            return None  # priced by range or time of day (tiered_pricing, off_peak_pricing)
        if "cost" in key and key not in (_IN, _OUT) and value and not any(k in key for k in _INERT):
            return None
    return float(rates[0]), float(rates[1])  # type: ignore[arg-type]


def _plain_tokens(response: Any) -> tuple[int, int] | None:
    """(prompt, completion) tokens when the usage has no other kind of token in it."""
    if not isinstance(response, litellm.ModelResponse):
        return None
    usage = getattr(response, "usage", None)
    dump = getattr(usage, "model_dump", None)
    if dump is None:
        return None
    fields = dump()

    def plain(values: dict[str, Any]) -> bool:
        for key, value in values.items():
            if isinstance(value, dict):
                if not plain(value):
                    return False
            elif key not in _PLAIN_USAGE and value not in (None, 0, 0.0, False, "", [], {}):
                return False
        return True

    prompt, completion = fields.get("prompt_tokens"), fields.get("completion_tokens")
    if not (isinstance(prompt, int) and isinstance(completion, int)) or not plain(fields):
        return None
    return prompt, completion


def _given(value: Any) -> bool:
    """Set to something: a dict counts only if one of its values is."""
    return any(_given(v) for v in value.values()) if isinstance(value, dict) else bool(value)


def _key(kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    if kwargs.get("cache_hit") or any(_given(kwargs.get(name)) for name in _RISKY_KWARGS):
        return None
    if kwargs.get("call_type") not in ("acompletion", "completion"):
        return None
    optional = kwargs.get("optional_params") or {}
    if any(optional.get(name) for name in ("service_tier", "input_cost_per_token")):
        return None
    response = kwargs.get("response_object")
    hidden = getattr(response, "_hidden_params", None)
    headers = hidden.get("additional_headers") if isinstance(hidden, dict) else None
    if not isinstance(hidden, dict) or (
        isinstance(headers, dict) and headers.get("llm_provider-x-litellm-response-cost")
    ):
        return None  # a price the provider reported wins, as before
    specific = hidden.get("provider_specific_fields")
    traffic = specific.get("traffic_type") if isinstance(specific, dict) else None
    served_tier = getattr(response, "service_tier", None), traffic  # priced by litellm
    return (kwargs.get("model"), kwargs.get("custom_llm_provider"),
            getattr(response, "model", None), kwargs.get("call_type"), served_tier)  # fmt: skip


def _candidates(key: tuple[Any, ...]) -> list[str]:
    model, provider, answered = key[:3]
    names = [model, f"{provider}/{model}", answered, f"{provider}/{answered}"]
    return [n for n in dict.fromkeys(names) if isinstance(n, str) and n and "None" not in n]


def _agrees(cost: float, tokens: tuple[int, int], rates: tuple[float, float] | None) -> bool:
    if rates is None:
        return False
    formula = tokens[0] * rates[0] + tokens[1] * rates[1]
    return math.isclose(formula, cost, rel_tol=1e-9, abs_tol=1e-15)


def _priced(original: Any, **kwargs: Any) -> Any:
    key = _key(kwargs) if _active.get() else None
    tokens = _plain_tokens(kwargs.get("response_object")) if key is not None else None
    if key is None or tokens is None:
        stats["litellm"] += 1
        return original(**kwargs)
    name = _verdicts.get(key, _UNKNOWN)
    rates = _flat_rates(name) if isinstance(name, str) else None
    if rates is not None:
        stats["fast"] += 1
        return tokens[0] * rates[0] + tokens[1] * rates[1]
    stats["litellm"] += 1
    cost = original(**kwargs)
    checkable = isinstance(cost, int | float) and tokens[0] > 0 and tokens[1] > 0
    if checkable and (name is _UNKNOWN or isinstance(name, str)):  # first, or entry changed
        _verdicts[key] = next(
            (n for n in _candidates(key) if _agrees(float(cost), tokens, _flat_rates(n))), None
        )
    return cost


def install() -> None:
    """Route litellm's answer pricing through :func:`_priced` (once per process)."""
    current = litellm.response_cost_calculator
    if getattr(current, "_eightflow_flat", False):
        return
    original = current

    def response_cost_calculator(**kwargs: Any) -> Any:
        return _priced(original, **kwargs)

    response_cost_calculator._eightflow_flat = True  # type: ignore[attr-defined]
    litellm.response_cost_calculator = response_cost_calculator


def forget() -> None:
    """Drop every verdict (tests; a price map replaced wholesale)."""
    _verdicts.clear()
