"""The model gateway: the one package that imports litellm.

Split by concern: ``errors`` maps provider failures to ours, ``keys`` finds API keys,
``call`` is the call path (:class:`ModelGateway`), ``adapter`` plugs plain provider
callables into litellm, and ``embedded`` registers the offline default model.

``import litellm`` costs seconds, so this package is imported lazily, only by code that
calls a model.
"""

from __future__ import annotations

import os

# litellm reads these once, while it is imported, and has no other switch for them: without
# them ``import litellm`` downloads its price map and provider catalogues. setdefault leaves a
# user's own choice alone.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

# No litellm module globals are set here: options travel with each call (see ``call``).

from eightflow.runtime.gc_pause import quiet_gc

# litellm (and the openai SDK under it) is the biggest import of all: without the pause the
# collector ran repeated full collections over the growing heap while it was built.
with quiet_gc():
    from eightflow.gateway.adapter import register_provider
    from eightflow.gateway.call import Generation, ModelGateway
    from eightflow.gateway.embedded import ensure_local_provider
    from eightflow.gateway.errors import map_error, provider_of
    from eightflow.gateway.keys import provider_key

__all__ = [
    "Generation",
    "ModelGateway",
    "ensure_local_provider",
    "map_error",
    "provider_key",
    "provider_of",
    "register_provider",
]
