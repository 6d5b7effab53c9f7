"""Token-counted chunking: split long documents to fit a model's context window.

Greedy packing of paragraphs, falling back to sentences and then words for any unit that
alone exceeds the limit, so chunks end at natural boundaries whenever they can.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

from eightflow.embedded.text import sentence_ends

CountTokens = Callable[[str], int]


def chunk_text(text: str, max_tokens: int, count: CountTokens) -> list[str]:
    """Chunks of at most ``max_tokens`` (by ``count``), in order, covering all the text."""
    if max_tokens < 16:
        raise ValueError("max_tokens must be at least 16")
    if count(text) <= max_tokens:
        return [text]
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if count(paragraph) <= max_tokens:
            units.append(paragraph)
            continue
        for sentence in _sentences(paragraph):
            if count(sentence) <= max_tokens:
                units.append(sentence)
            else:
                units.extend(_split_words(sentence, max_tokens, count))
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        n = count(unit)
        if current and size + n + 1 > max_tokens:
            chunks.append("\n\n".join(current))
            current, size = [], 0
        current.append(unit)
        size += n + 1
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def _sentences(paragraph: str) -> list[str]:
    """The paragraph cut where the embedded model's splitter ends sentences (one splitter)."""
    cuts = [0, *sentence_ends(paragraph), len(paragraph)]
    pieces = (paragraph[a:b].strip() for a, b in pairwise(cuts))
    return [p for p in pieces if p]


def _split_words(text: str, max_tokens: int, count: CountTokens) -> list[str]:
    words: list[str] = []
    for word in text.split():
        # One "word" can exceed the window on its own (CJK, base64, a long URL): cut it.
        words.extend(_split_chars(word, max_tokens, count) if count(word) > max_tokens else [word])
    out: list[str] = []
    start = 0
    step = max(8, max_tokens // 2)
    while start < len(words):
        end = min(len(words), start + step)
        while end > start + 1 and count(" ".join(words[start:end])) > max_tokens:
            end = start + max(1, (end - start) * 3 // 4)
        out.append(" ".join(words[start:end]))
        start = end
    return out


def _split_chars(text: str, max_tokens: int, count: CountTokens) -> list[str]:
    out: list[str] = []
    start = 0
    width = max(1, len(text) * max_tokens // max(count(text), 1))
    while start < len(text):
        end = min(len(text), start + width)
        while end > start + 1 and count(text[start:end]) > max_tokens:
            end = start + max(1, (end - start) * 3 // 4)
        out.append(text[start:end])
        start = end
    return out
