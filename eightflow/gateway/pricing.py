"""Model prices: litellm's bundled map, plus a price file under ``EIGHTFLOW_HOME``.

A cost cap means nothing for a model without a price: every call would reserve and
settle $0. So a budgeted run asks :func:`require_price` first, which refuses to start
for an unpriced model (unless told ``allow_unpriced``) and says how to price it.

``EIGHTFLOW_HOME/prices.json`` maps model strings to per-token prices::

    {"openai/my-finetune": {"input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07}}

It is registered with ``litellm.register_model`` on first use, so the gateway's cost
accounting and this check agree. Whether a model is priced is decided from the model
that was requested, never from the name a server answers with (a server may answer
"gpt-4o-mini-2024-07-18" to a request for a model litellm has never heard of).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import litellm

from eightflow.errors import UnpricedModelError
from eightflow.gateway.model_names import FREE_PROVIDERS, provider_of
from eightflow.gateway.price_memo import PRICE_FILE, remember_priced
from eightflow.settings import get_settings

_loaded: set[Path] = set()
_priced: set[str] = set()  # models found priced (a price, once known, stays known)
_lock = threading.Lock()


def price_file() -> Path:
    return get_settings().home / PRICE_FILE


def load_price_file(path: Path | None = None) -> int:
    """Register the prices in ``path`` (default: the home's price file) once; returns how many."""
    path = path or price_file()
    with _lock:
        if path in _loaded or not path.is_file():
            return 0
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UnpricedModelError(f"{path}: not a readable JSON price file ({exc})") from None
        if not isinstance(entries, dict):
            raise UnpricedModelError(f"{path}: expected an object of model -> prices")
        models: dict[str, Any] = {}
        for model, price in entries.items():
            if not isinstance(price, dict) or not {
                "input_cost_per_token",
                "output_cost_per_token",
            } <= set(price):
                raise UnpricedModelError(
                    f"{path}: {model!r} needs input_cost_per_token and output_cost_per_token"
                )
            models[model] = {
                "litellm_provider": provider_of(model),
                "mode": "chat",
                "input_cost_per_token": float(price["input_cost_per_token"]),
                "output_cost_per_token": float(price["output_cost_per_token"]),
            }
        if models:
            litellm.register_model(models)
        _loaded.add(path)
        return len(models)


def is_priced(model: str) -> bool:
    """True when litellm (or the price file) knows what ``model`` costs per token."""
    if provider_of(model) in FREE_PROVIDERS or model in _priced:
        return True  # known before any file check: this runs on every call
    load_price_file()
    try:
        cost_in, cost_out = litellm.cost_per_token(
            model=model, prompt_tokens=1000, completion_tokens=1000
        )
    except Exception:
        return False  # not remembered: a price may be registered later
    if cost_in is None or cost_out is None:
        return False
    _priced.add(model)
    return True


def require_price(model: str, *, allow_unpriced: bool = False) -> None:
    """Refuse a cost cap on an unpriced model, naming it and saying how to price it.

    A model found priced is remembered for later runs (:mod:`eightflow.gateway.price_memo`).
    """
    if allow_unpriced:
        return
    if is_priced(model):
        remember_priced(model)
        return
    raise UnpricedModelError(
        f"a cost cap was set but model '{model}' has no known price, so the cap could not "
        f"hold. Give it a price in {price_file()} "
        f'(e.g. {{"{model}": {{"input_cost_per_token": 1e-07, '
        f'"output_cost_per_token": 4e-07}}}}), or register it with '
        f"litellm.register_model(...), or pass --allow-unpriced to run without a USD cap",
        model=model,
    )


def unit_price(model: str) -> float | None:
    """What ``model`` costs for 1,000 prompt and 1,000 completion tokens, in USD; None when
    its price is unknown. Used to compare models (``on_budget=cheaper``), not to bill."""
    if provider_of(model) in FREE_PROVIDERS:
        return 0.0
    if not is_priced(model):
        return None
    try:
        cost_in, cost_out = litellm.cost_per_token(
            model=model, prompt_tokens=1000, completion_tokens=1000
        )
    except Exception:
        return None
    return float(cost_in) + float(cost_out)
