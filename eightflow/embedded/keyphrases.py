"""Topic and keyphrase extraction with YAKE.

YAKE scores candidate n-grams from statistics of the document alone (casing, position,
frequency, context diversity), so it needs no corpus, no model and no network: a good fit
for an offline default model. The ``yake`` package reads only its bundled stopword lists
(lemmatization, the one feature that could download data, stays off), and it is imported
lazily because it drags in numpy and networkx.

Should yake be missing or fail, a small frequency-based ranker of stopword-delimited
phrases keeps the task answering rather than crashing.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from typing import Any

from eightflow.embedded.text import STOPWORDS, split_sentences

__all__ = ["extract_topics"]

#: Keyphrases listed in the answer (at least ``top_n``).
KEYPHRASES = 10
MAX_NGRAM = 3
DEDUP_LIMIT = 0.8
#: Longer "phrases" are tokenizer accidents (URLs, runs of symbols), never topics.
MAX_PHRASE_CHARS = 80
#: YAKE's cost grows with the document; past this many characters it reads evenly spaced
#: excerpts (see ``_sample``), so a 1 MB report costs about what a 60 KB one does.
MAX_CHARS = 60_000
SAMPLE_WINDOWS = 12

_lock = threading.Lock()
_extractors: dict[int, Any] = {}
_PHRASE_SPLIT = re.compile(r"[^\w\s'’-]+|\s[-–—]\s")
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")


def extract_topics(text: str, top_n: int = 5) -> dict[str, Any]:
    """Return ``{"topics": [...], "keyphrases": [{"phrase", "score"}, ...]}``.

    ``score`` maps YAKE's lower-is-better weight ``h`` to ``1 / (1 + h)``: higher is better,
    within 0..1, and independent of the other phrases. ``topics`` are the best ``top_n``
    phrases lowercased, dropping any phrase whose words sit inside a better-ranked one (or
    that merely extends one), so the labels stay distinct.
    """
    text = _sample(text or "", MAX_CHARS)
    top_n = min(max(1, int(top_n)), 100)
    if not text.strip():
        return {"topics": [], "keyphrases": []}
    wanted = max(KEYPHRASES, top_n)
    ranked = _yake(text, wanted * 3)
    if not ranked:
        ranked = _fallback(text, wanted * 3)
    keyphrases = [
        {"phrase": phrase, "score": round(1.0 / (1.0 + weight), 4)}
        for phrase, weight in ranked[:wanted]
    ]
    return {"topics": _topics([p for p, _ in ranked], top_n), "keyphrases": keyphrases}


def _sample(text: str, limit: int) -> str:
    """``text`` if short enough, else ``SAMPLE_WINDOWS`` excerpts spread over the whole of it.

    Taking only the head would miss topics introduced later; equal excerpts from equally
    spaced windows keep every part of the document represented. Cuts fall on whitespace.
    """
    if len(text) <= limit:
        return text
    window = len(text) // SAMPLE_WINDOWS
    take = limit // SAMPLE_WINDOWS
    excerpts = []
    for k in range(SAMPLE_WINDOWS):
        start = k * window
        if k:
            space = text.find(" ", start, start + 200)
            start = space + 1 if space >= 0 else start
        piece = text[start : start + take]
        cut = piece.rfind(" ")
        excerpts.append(piece[:cut] if cut > take // 2 else piece)
    return "\n\n".join(excerpts)


def _yake(text: str, top: int) -> list[tuple[str, float]]:
    try:
        import yake
    except ImportError:  # pragma: no cover - yake is a declared dependency
        return []
    with _lock:
        # The extractor keeps per-instance similarity caches that are not thread-safe.
        extractor = _extractors.get(top)
        if extractor is None:
            extractor = yake.KeywordExtractor(
                lan="en", n=MAX_NGRAM, dedup_lim=DEDUP_LIMIT, top=top, features=None
            )
            _extractors[top] = extractor
        try:
            found = extractor.extract_keywords(text)
        except Exception:  # yake has failed on odd input before; fall back, never crash
            return []
    cleaned: list[tuple[str, float]] = []
    for phrase, weight in found:
        phrase = " ".join(str(phrase).split())
        if phrase and len(phrase) <= MAX_PHRASE_CHARS and _TOKEN.search(phrase):
            cleaned.append((phrase, max(float(weight), 0.0)))
    return cleaned


def _topics(phrases: list[str], top_n: int) -> list[str]:
    chosen: list[list[str]] = []
    for phrase in phrases:
        tokens = phrase.lower().split()
        if any(_contains(better, tokens) or _contains(tokens, better) for better in chosen):
            continue  # "learning" after "machine learning" (or before it) adds no topic
        chosen.append(tokens)
        if len(chosen) == top_n:
            break
    return [" ".join(tokens) for tokens in chosen]


def _contains(outer: list[str], inner: list[str]) -> bool:
    """Whether ``inner`` appears as a contiguous word sequence in ``outer``."""
    size = len(inner)
    return any(outer[i : i + size] == inner for i in range(len(outer) - size + 1))


def _fallback(text: str, top: int) -> list[tuple[str, float]]:
    """Rank stopword-delimited phrases (≤3 words) by word frequency, RAKE-style.

    Returns YAKE-like lower-is-better weights so callers treat both paths alike.
    """
    phrases: list[tuple[str, ...]] = []
    display: dict[tuple[str, ...], str] = {}
    for sentence in split_sentences(text):
        for chunk in _PHRASE_SPLIT.split(sentence):
            run: list[str] = []
            for token in [*_TOKEN.findall(chunk), ""]:
                if token and token.lower() not in STOPWORDS and len(token) > 1:
                    run.append(token)
                    continue
                for start in range(0, len(run), MAX_NGRAM):
                    part = run[start : start + MAX_NGRAM]
                    if len(" ".join(part)) > MAX_PHRASE_CHARS:
                        continue
                    key = tuple(t.lower() for t in part)
                    display.setdefault(key, " ".join(part))
                    phrases.append(key)
                run = []
    if not phrases:
        return []
    word_freq = Counter(w for key in phrases for w in key)
    phrase_freq = Counter(phrases)
    first_seen = {key: i for i, key in reversed(list(enumerate(phrases)))}

    def merit(key: tuple[str, ...]) -> float:
        return sum(word_freq[w] for w in key) * phrase_freq[key] / math.sqrt(len(key))

    ordered = sorted(phrase_freq, key=lambda k: (-merit(k), first_seen[k]))
    best = merit(ordered[0])
    return [(display[k], round(best / merit(k) - 1.0 + 0.01, 6)) for k in ordered[:top]]
