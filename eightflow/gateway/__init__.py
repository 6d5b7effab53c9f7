"""The model gateway: the one package that imports litellm.

Split by concern: ``errors`` maps provider failures to ours, ``keys`` finds API keys,
``call`` is the call path (:class:`ModelGateway`), ``adapter`` plugs plain provider
callables into litellm, and ``embedded`` registers the offline default model.

``import litellm`` costs seconds (1.4 s of CPU here), so litellm is imported only by code
that calls a model: importing this package imports none of it, and its names are loaded
on first use (``from eightflow.gateway import ModelGateway`` loads ``call``).
:mod:`eightflow.gateway.price_memo` answers "is this model priced?" for a batch whose
documents are all served from cache, which then never imports litellm at all.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

# litellm reads these once, while it is imported, and has no other switch for them: without
# them ``import litellm`` downloads its price map and provider catalogues. setdefault leaves a
# user's own choice alone.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

# No litellm module globals are set here: options travel with each call (see ``call``).

if TYPE_CHECKING:
    from eightflow.gateway.adapter import register_provider
    from eightflow.gateway.call import Generation, ModelGateway
    from eightflow.gateway.embedded import ensure_local_provider
    from eightflow.gateway.errors import map_error
    from eightflow.gateway.keys import provider_key
    from eightflow.gateway.model_names import provider_of

_HOMES = {
    "register_provider": "adapter",
    "Generation": "call",
    "ModelGateway": "call",
    "ensure_local_provider": "embedded",
    "map_error": "errors",
    "provider_of": "model_names",  # litellm-free
    "provider_key": "keys",
}

__all__ = [
    "Generation",
    "ModelGateway",
    "ensure_local_provider",
    "load_litellm",
    "map_error",
    "provider_key",
    "provider_of",
    "register_provider",
]


def load_litellm() -> None:
    """Import litellm and the call path now (e.g. before forking workers that share it)."""
    from eightflow.runtime.gc_pause import quiet_gc

    # litellm (and the openai SDK under it) is the biggest import of all: without the pause
    # the collector ran repeated full collections over the growing heap while it was built.
    with quiet_gc():
        importlib.import_module("eightflow.gateway.call")


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'eightflow.gateway' has no attribute {name!r}")
    if _HOMES[name] != "model_names":
        load_litellm()
    value = getattr(importlib.import_module(f"eightflow.gateway.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
