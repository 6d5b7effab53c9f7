"""The model gateway: the one package that imports litellm.

Split by concern: ``errors`` maps provider failures to ours, ``keys`` finds API keys,
``call`` is the call path (:class:`ModelGateway`), ``adapter`` plugs plain provider
callables into litellm, and ``embedded`` registers the offline default model.

``import litellm`` costs seconds, so this package is imported lazily, only by code that
calls a model.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm: no price fetch
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")  # and no other catalogue fetches

import litellm

litellm.suppress_debug_info = True  # no "Give Feedback" banner on every error
litellm.drop_params = True  # providers that lack e.g. response_format still answer

from eightflow.gateway.adapter import register_provider  # noqa: E402
from eightflow.gateway.call import Generation, ModelGateway  # noqa: E402
from eightflow.gateway.embedded import ensure_local_provider  # noqa: E402
from eightflow.gateway.errors import map_error, provider_of  # noqa: E402
from eightflow.gateway.keys import provider_key  # noqa: E402

__all__ = [
    "Generation",
    "ModelGateway",
    "ensure_local_provider",
    "map_error",
    "provider_key",
    "provider_of",
    "register_provider",
]
