"""The analysis steps, chunk-aware, shared by the workflows that need them.

Documents that fit the model's window take one call per step. Longer ones are chunked
(counting tokens) and processed map-reduce style: chunk summaries are summarized again,
entities are merged with their counts, sentiment is averaged weighted by chunk length.
How each document was chunked goes into the step's trace notes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from eightflow.prompts import Prompt
from eightflow.runtime.run_state import record_note
from tasks.analysis.schemas import Entities, Entity, Sentiment, Summary, Topics
from tasks.chunking import chunk_text

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


async def summarize(model: Any, prompts: Any, text: str) -> Summary:
    prompt = prompts.get("summarization")
    chunks = chunks_for(model, prompt, text)
    if len(chunks) == 1:
        result: Summary = await model.generate(prompt, text)
        return result
    parts: list[Summary] = await asyncio.gather(*(model.generate(prompt, c) for c in chunks))
    merged = "\n\n".join(p.summary for p in parts)
    while len(chunk_text(merged, window_tokens(model, prompt), model.count_tokens)) > 1:
        merged = "\n\n".join(
            p.summary
            for p in await asyncio.gather(
                *(
                    model.generate(prompt, c)
                    for c in chunk_text(merged, window_tokens(model, prompt), model.count_tokens)
                )
            )
        )
    final: Summary = await model.generate(prompt, merged)
    key_points = [kp for p in parts for kp in p.key_points][:10]
    return Summary(summary=final.summary, key_points=key_points or final.key_points)


async def extract_topics(model: Any, prompts: Any, summary: str) -> Topics:
    result: Topics = await model.generate(prompts.get("topic_extraction"), summary)
    return result


async def analyze_sentiment(model: Any, prompts: Any, text: str) -> Sentiment:
    prompt = prompts.get("sentiment")
    chunks = chunks_for(model, prompt, text)
    if len(chunks) == 1:
        result: Sentiment = await model.generate(prompt, text)
        return result
    parts: list[Sentiment] = await asyncio.gather(*(model.generate(prompt, c) for c in chunks))
    weights = [len(c) for c in chunks]
    score = sum(p.score * w for p, w in zip(parts, weights, strict=True)) / sum(weights)
    label = "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
    return Sentiment(label=label, score=round(score, 4))


async def extract_entities(model: Any, prompts: Any, text: str) -> Entities:
    prompt = prompts.get("entities")
    chunks = chunks_for(model, prompt, text)
    if len(chunks) == 1:
        result: Entities = await model.generate(prompt, text)
        return result
    parts: list[Entities] = await asyncio.gather(*(model.generate(prompt, c) for c in chunks))
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
