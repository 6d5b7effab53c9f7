"""The embedded default model: real, deterministic, offline work behind ``local/...``.

When no API key is configured, eightflow still runs its workflows end to end: the gateway
sends model calls to this engine, which answers the four analysis prompts (summary,
topics, sentiment, entities) with the JSON a real LLM would have been asked for. It uses
only pure Python plus two small packages whose data ships inside them (``yake`` and
``vaderSentiment``); both are imported on first use, so importing this package is cheap.
"""

from eightflow.embedded.engine import EmbeddedModel, UnknownTaskError, extract_document, infer_task
from eightflow.embedded.entities import extract_entities
from eightflow.embedded.keyphrases import extract_topics
from eightflow.embedded.sentiment import analyze_sentiment
from eightflow.embedded.summarize import summarize

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
