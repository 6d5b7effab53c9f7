"""The triage steps: pure Python for tables and language, the model for the rest.

``summarize_in_chunks`` is the long-document summarizer: it cuts the document into
sections of at most ``SECTION_TOKENS`` even when the model's window could take more, so a
long report is summarized section by section (map) and the section summaries once more
(reduce), and the key points come from every part of the document, not only its start.

``extract_tables`` and ``flag_language`` use the same profile code as the embedded planner
(:mod:`eightflow_app.tasks.triage.features`). The model-backed steps render their prompt
(``action_items``, ``legal_classification``, ``faq_extraction``) through the gateway, so
they run on a hosted model or, offline, on the embedded one. Long documents are chunked
the way the analysis steps chunk them: items and pairs are gathered chunk by chunk and
de-duplicated; the legal class is judged on the first chunk, where a licence or contract
states what it is.
"""

from __future__ import annotations

import asyncio
from typing import Any

from eightflow_app.tasks.analysis.schemas import Summary
from eightflow_app.tasks.analysis.steps import chunks_for, map_chunks, window_tokens
from eightflow_app.tasks.chunking import chunk_text
from eightflow_app.tasks.triage.features import detect_language, find_tables
from eightflow_app.tasks.triage.schemas import (
    ActionItem,
    FaqPair,
    Language,
    LegalClassification,
    Table,
)

from eightflow.runtime.run_state import record_note

SECTION_TOKENS = 1200
"""The largest section ``summarize_in_chunks`` summarizes in one call."""


async def summarize_in_chunks(
    model: Any, prompts: Any, text: str, section_tokens: int = SECTION_TOKENS
) -> Summary:
    """Map-reduce summary over sections of at most ``section_tokens`` (see the module doc)."""
    prompt = prompts.get("summarization")
    limit = max(256, min(section_tokens, window_tokens(model, prompt)))
    sections = chunk_text(text, limit, model.count_tokens)
    record_note(
        chunking={
            "strategy": "map-reduce",
            "chunks": len(sections),
            "max_tokens": limit,
            "chunk_tokens": [model.count_tokens(c) for c in sections],
        }
    )
    parts: list[Summary] = await asyncio.gather(*(model.generate(prompt, c) for c in sections))
    if len(parts) == 1:
        return parts[0]
    merged = "\n\n".join(p.summary for p in parts)
    while len(pieces := chunk_text(merged, window_tokens(model, prompt), model.count_tokens)) > 1:
        reduced: list[Summary] = await asyncio.gather(*(model.generate(prompt, c) for c in pieces))
        merged = "\n\n".join(p.summary for p in reduced)
    final: Summary = await model.generate(prompt, merged)
    key_points = [p.key_points[0] for p in parts if p.key_points][:10]
    return Summary(summary=final.summary, key_points=key_points or final.key_points)


def extract_tables(text: str) -> list[Table]:
    """CSV/TSV rows, Markdown pipe tables and HTML tables (rendered as ``a | b`` rows)."""
    return [Table(columns=t["columns"], rows=t["rows"]) for t in find_tables(text)]


def flag_language(text: str) -> Language:
    code, confidence = detect_language(text)
    return Language(code=code, confidence=confidence, english=code in ("en", "und"))


def _unique(items: list[Any], text_of: Any) -> list[Any]:
    """Items from several chunks, the first of each normalised text kept, in order."""
    seen: set[str] = set()
    kept = []
    for item in items:
        key = " ".join(text_of(item).lower().split())
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


async def extract_actions(model: Any, prompts: Any, text: str) -> list[ActionItem]:
    _, parts = await map_chunks(model, prompts.get("action_items"), text)
    items: list[ActionItem] = [item for part in parts for item in part.items]
    return _unique(items, lambda item: item.action)


async def classify_legal(model: Any, prompts: Any, text: str) -> LegalClassification:
    prompt = prompts.get("legal_classification")
    first = chunks_for(model, prompt, text)[0]
    result: LegalClassification = await model.generate(prompt, first)
    return result


async def extract_faq(model: Any, prompts: Any, text: str) -> list[FaqPair]:
    _, parts = await map_chunks(model, prompts.get("faq_extraction"), text)
    pairs: list[FaqPair] = [pair for part in parts for pair in part.pairs]
    return _unique(pairs, lambda pair: pair.question)
