"""The analysis steps, chunk-aware, shared by the workflows that need them.

Documents that fit the model's window take one call per step. Longer ones are chunked
(counting tokens) and processed map-reduce style: chunk summaries are summarized again,
entities are merged with their counts, sentiment is averaged weighted by chunk length.
How each document was chunked goes into the step's trace notes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from eightflow_app.tasks.analysis.schemas import Entities, Entity, Sentiment, Summary, Topics
from eightflow_app.tasks.chunking import chunk_text

from eightflow.prompts import Prompt
from eightflow.runtime.run_state import record_note

PROMPT_OVERHEAD_TOKENS = 400


def window_tokens(model: Any, prompt: Prompt) -> int:
    window = model.context_window(model.resolve_model(prompt, None))
    output = int(prompt.params.get("max_tokens", 512))
    return max(256, window - output - PROMPT_OVERHEAD_TOKENS)


def chunks_for(model: Any, prompt: Prompt, text: str) -> list[str]:
    limit = window_tokens(model, prompt)
    if len(text.encode("utf-8")) <= limit:
        # A token is at least one byte: a text this short fits without counting (the
        # common case, and counting costs ~1 ms of CPU per document per step).
        return [text]
    chunks = chunk_text(text, limit, model.count_tokens)
    if len(chunks) > 1:
        record_note(
            chunking={
                "strategy": "map-reduce",
                "chunks": len(chunks),
                "max_tokens": limit,
                "chunk_tokens": [model.count_tokens(c) for c in chunks],
            }
        )
    return chunks


async def map_chunks(model: Any, prompt: Prompt, text: str) -> tuple[list[str], list[Any]]:
    """The prompt's answer per chunk (one chunk, one call, for a text that fits)."""
    chunks = chunks_for(model, prompt, text)
    if len(chunks) == 1:
        return chunks, [await model.generate(prompt, text)]
    return chunks, list(await asyncio.gather(*(model.generate(prompt, c) for c in chunks)))


async def summarize(model: Any, prompts: Any, text: str) -> Summary:
    prompt = prompts.get("summarization")
    _, parts = await map_chunks(model, prompt, text)
    if len(parts) == 1:
        single: Summary = parts[0]
        return single
    merged = "\n\n".join(p.summary for p in parts)
    # Reduce until the joined summaries fit one call, then summarize them once more.
    while len(chunk_text(merged, window_tokens(model, prompt), model.count_tokens)) > 1:
        _, again = await map_chunks(model, prompt, merged)
        merged = "\n\n".join(p.summary for p in again)
    final: Summary = await model.generate(prompt, merged)
    key_points = [kp for p in parts for kp in p.key_points][:10]
    return Summary(summary=final.summary, key_points=key_points or final.key_points)


async def extract_topics(model: Any, prompts: Any, summary: str) -> Topics:
    result: Topics = await model.generate(prompts.get("topic_extraction"), summary)
    return result


async def analyze_sentiment(model: Any, prompts: Any, text: str) -> Sentiment:
    chunks, parts = await map_chunks(model, prompts.get("sentiment"), text)
    if len(parts) == 1:
        single: Sentiment = parts[0]
        return single
    weights = [len(c) for c in chunks]
    score = sum(p.score * w for p, w in zip(parts, weights, strict=True)) / sum(weights)
    label = "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
    return Sentiment(
        label=label, score=round(score, 4), confidence=_weighted_confidence(parts, weights)
    )


def _weighted_confidence(parts: list[Sentiment], weights: list[int]) -> float | None:
    """The chunks' confidences weighted by length; unknown if any chunk's is."""
    if any(p.confidence is None for p in parts):
        return None
    total = sum(p.confidence * w for p, w in zip(parts, weights, strict=True))
    return round(total / sum(weights), 3)


async def extract_entities(model: Any, prompts: Any, text: str) -> Entities:
    _, parts = await map_chunks(model, prompts.get("entities"), text)
    if len(parts) == 1:
        single: Entities = parts[0]
        return single
    merged: dict[tuple[str, str], Entity] = {}
    for part in parts:
        for entity in part.entities:
            key = (entity.text.lower(), entity.type)
            if key in merged:
                merged[key] = merged[key].model_copy(
                    update={"count": merged[key].count + entity.count}
                )
            else:
                merged[key] = entity
    return Entities(entities=list(merged.values()))
