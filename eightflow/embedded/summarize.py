"""Extractive summarization with TextRank.

Without a generative model the honest summary is an extractive one: the sentences most
central to the document, quoted verbatim and in their original order. Centrality is
TextRank (Mihalcea & Tarau, 2004): sentences are nodes, edges weigh normalized content-word
overlap, and PageRank's power iteration scores them. Everything is pure Python, ordered
by sentence index, so the output is deterministic.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from eightflow.embedded.prose import find_title, prose_sentences
from eightflow.embedded.text import STOPWORDS, clip, split_sentences, words

__all__ = ["summarize"]

DAMPING = 0.85
MAX_ITERATIONS = 100
TOLERANCE = 1e-9
#: Above this many sentences, a cheap frequency score pre-selects the TextRank candidates,
#: so the quadratic graph stays bounded on very long documents.
MAX_CANDIDATES = 300
KEY_POINT_CHARS = 300
SUMMARY_SENTENCE_CHARS = 1000
#: Sentences shorter than this (headings, bullet fragments) are chosen only as a last resort.
MIN_WORDS = 4
#: A one-word heading ("Report", "jq") says too little to open a summary with.
MIN_TITLE_WORDS = 2


def summarize(text: str, max_sentences: int = 3) -> dict[str, Any]:
    """Summarize ``text`` as ``{"summary": str, "key_points": list[str]}``.

    Only prose is read (:mod:`eightflow.embedded.prose`): code, navigation, asides and
    notices are skipped. Picks about one sentence per four (at least one, at most
    ``max_sentences``), so a three-sentence note is not "summarized" by itself. A
    document with a title (a README, a licence, a manual page) is summarized the way a
    reader skims it: the title, then its first informative sentence, then the most
    central others; plain prose is summarized by centrality alone.
    """
    if not split_sentences(text or ""):
        return {"summary": "", "key_points": []}
    sentences = prose_sentences(text) or split_sentences(text)
    limit = max(1, int(max_sentences))
    want = min(limit, max(1, math.ceil(len(sentences) / 4)))
    title = find_title(text)
    if title is not None and len(words(title)) < MIN_TITLE_WORDS:
        title = None

    tokens = [words(s) for s in sentences]
    unique = _first_occurrences(tokens)
    if title is not None:
        unique = [i for i in unique if sentences[i].strip().rstrip(":") != title]
    # Headings and titles carry no verb or full stop: prefer real sentences when there are
    # enough, so a summary does not open with "Kilmory Bay wins ... port The small town".
    indices = [i for i in unique if len(tokens[i]) >= MIN_WORDS and _is_sentence(sentences[i])]
    if len(indices) < want:
        indices = [i for i in unique if len(tokens[i]) >= MIN_WORDS]
    if len(indices) < want:
        indices = unique
    want = min(want, len(indices))
    # A document with a title or with non-prose parts is structured: its first
    # informative sentence usually says what it is, so it always opens the summary.
    structured = title is not None or len(sentences) < len(split_sentences(text))
    lead = [indices[0]] if structured and indices else []
    rest = [i for i in indices if i not in lead]
    bags = {i: _content_words(tokens[i]) for i in rest}
    if len(rest) > MAX_CANDIDATES:
        rest = _preselect(rest, bags, MAX_CANDIDATES)

    scores = textrank([bags[i] for i in rest])
    ranked = sorted(range(len(rest)), key=lambda k: (-round(scores[k], 12), k))
    chosen = sorted(lead + [rest[k] for k in ranked[: want - len(lead)]])
    picked = [sentences[i] for i in chosen]
    summary = " ".join(clip(s, SUMMARY_SENTENCE_CHARS) for s in picked)
    if title is not None:
        summary = f"{clip(title, KEY_POINT_CHARS)}: {summary}" if summary else title
    return {
        "summary": summary,
        "key_points": [clip(s, KEY_POINT_CHARS) for s in picked],
    }


def _is_sentence(text: str) -> bool:
    return text.rstrip().rstrip("\"')]").endswith((".", "!", "?", ":", ";"))


def textrank(bags: list[frozenset[str]]) -> list[float]:
    """TextRank scores for sentences given as sets of content words (same order)."""
    n = len(bags)
    if n == 0:
        return []
    adjacency = _similarity_graph(bags)
    out_weight = [sum(w for _, w in edges) for edges in adjacency]
    scores = [1.0 / n] * n
    for _ in range(MAX_ITERATIONS):
        # Mass of sentences without edges is spread evenly (standard PageRank), so the
        # scores stay a distribution and isolated sentences do not swallow rank.
        dangling = sum(scores[i] for i in range(n) if out_weight[i] == 0.0)
        base = (1.0 - DAMPING) / n + DAMPING * dangling / n
        new = [base] * n
        for i, edges in enumerate(adjacency):
            if out_weight[i]:
                share = DAMPING * scores[i] / out_weight[i]
                for j, weight in edges:
                    new[j] += share * weight
        delta = sum(abs(a - b) for a, b in zip(new, scores, strict=True))
        scores = new
        if delta < TOLERANCE:
            break
    return scores


def _similarity_graph(bags: list[frozenset[str]]) -> list[list[tuple[int, float]]]:
    """Edges ``i -> (j, w)`` with w = |Si ∩ Sj| / (log(1+|Si|) + log(1+|Sj|)).

    Overlaps are counted through an inverted index, so only pairs sharing a word cost
    anything; the log normalization keeps long sentences from winning by length alone.
    """
    postings: dict[str, list[int]] = {}
    for i, bag in enumerate(bags):
        for word in sorted(bag):
            postings.setdefault(word, []).append(i)
    overlap: Counter[tuple[int, int]] = Counter()
    for ids in postings.values():
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                overlap[(ids[a], ids[b])] += 1
    adjacency: list[list[tuple[int, float]]] = [[] for _ in bags]
    for (i, j), shared in sorted(overlap.items()):
        weight = shared / (math.log1p(len(bags[i])) + math.log1p(len(bags[j])))
        adjacency[i].append((j, weight))
        adjacency[j].append((i, weight))
    for edges in adjacency:
        edges.sort()
    return adjacency


def _preselect(indices: list[int], bags: dict[int, frozenset[str]], keep: int) -> list[int]:
    """Keep the ``keep`` sentences richest in frequent content words (Luhn-style)."""
    frequency: Counter[str] = Counter()
    for i in indices:
        frequency.update(bags[i])
    total = len(indices)

    def score(position: int, i: int) -> float:
        bag = bags[i]
        if not bag:
            return 0.0
        mass = sum(frequency[w] for w in bag) / math.sqrt(len(bag))
        lead = 1.0 + 0.5 * (1.0 - position / total)  # openings tend to state the point
        return mass * lead

    ranked = sorted(range(total), key=lambda p: (-round(score(p, indices[p]), 9), p))
    return sorted(indices[p] for p in ranked[:keep])


def _first_occurrences(tokens: list[list[str]]) -> list[int]:
    """Indices of sentences not seen before: a repeated sentence (boilerplate, a quote
    pasted twice) would otherwise be picked twice and densify the graph for nothing."""
    seen: set[tuple[str, ...]] = set()
    unique = []
    for i, sentence in enumerate(tokens):
        key = tuple(sentence)
        if key not in seen:
            seen.add(key)
            unique.append(i)
    return unique


def _content_words(tokens: list[str]) -> frozenset[str]:
    return frozenset(
        _stem(w) for w in tokens if w not in STOPWORDS and len(w) > 1 and not w.isdigit()
    )


def _stem(word: str) -> str:
    """Fold the commonest plural forms so "sales" and "sale" overlap."""
    if word.endswith(("'s", "’s")):
        return word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
