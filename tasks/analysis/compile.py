"""The compilation step: one plain dict out of the four analyses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def compile_results(
    summary: str, topics: list[str], sentiment: Any, entities: Any
) -> dict[str, Any]:
    """A flat, JSON-ready record: what a results table or an API response needs."""
    sentiment_data = sentiment.model_dump() if isinstance(sentiment, BaseModel) else dict(sentiment)
    entity_list = (
        entities.entities if hasattr(entities, "entities") else entities.get("entities", [])
    )
    by_type: dict[str, list[str]] = {}
    for entity in entity_list:
        data = entity.model_dump() if isinstance(entity, BaseModel) else entity
        by_type.setdefault(data["type"], []).append(data["text"])
    return {
        "summary": summary,
        "topics": list(topics),
        "sentiment": sentiment_data["label"],
        "sentiment_score": sentiment_data["score"],
        "entities": by_type,
        "entity_count": sum(len(v) for v in by_type.values()),
    }
