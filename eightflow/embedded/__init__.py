"""The embedded default model: real, deterministic, offline work behind ``local/...``.

When no API key is configured, eightflow still runs its workflows end to end: the gateway
sends model calls to this engine, which answers the four analysis prompts (summary,
topics, sentiment, entities) with the JSON a real LLM would have been asked for. It uses
only pure Python plus two small packages whose data ships inside them (``yake`` and
``vaderSentiment``); both are imported on first use, so importing this package is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eightflow.embedded.engine import (
        EmbeddedModel,
        UnknownTaskError,
        extract_document,
        infer_task,
    )
    from eightflow.embedded.entities import extract_entities
    from eightflow.embedded.keyphrases import extract_topics
    from eightflow.embedded.sentiment import analyze_sentiment

# Imported now, not when first asked for: the function shares its module's name, and the
# module, once imported by anyone, would be what ``from eightflow.embedded import
# summarize`` found. It is cheap (no engine, no entity patterns).
from eightflow.embedded.summarize import summarize

# Loaded when first asked for: a workflow that only splits sentences with
# ``eightflow.embedded.text`` (document_analysis's chunking) must not compile the engine's
# hundred-odd patterns, 47 ms of every batch's start, when it calls a provider instead.
_WHERE = {
    "EmbeddedModel": "engine",
    "UnknownTaskError": "engine",
    "extract_document": "engine",
    "infer_task": "engine",
    "extract_entities": "entities",
    "extract_topics": "keyphrases",
    "analyze_sentiment": "sentiment",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'eightflow.embedded' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"eightflow.embedded.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "EmbeddedModel",
    "UnknownTaskError",
    "analyze_sentiment",
    "extract_document",
    "extract_entities",
    "extract_topics",
    "infer_task",
    "summarize",
]
