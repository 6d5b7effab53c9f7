"""Document sentiment with VADER.

VADER is a lexicon-and-rules sentiment model whose lexicon ships inside the
``vaderSentiment`` package, so it works offline and deterministically. Its compound score
sums word valences and squashes the sum, which saturates at ±1 on long texts; scoring each
sentence and averaging the compounds weighted by sentence length keeps a long, mostly
factual report with one angry line from reading as furious.
"""

from __future__ import annotations

import threading
from typing import Any

from eightflow.embedded.text import split_sentences, words

__all__ = ["analyze_sentiment", "label_for"]

#: VADER's standard cut-offs on the compound score.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
#: VADER is applied per sentence; a "sentence" longer than this (a wall of text without
#: punctuation) is scored in slices so each compound stays meaningful.
MAX_SENTENCE_WORDS = 80

_lock = threading.Lock()
_analyzer: Any = None


def analyze_sentiment(text: str) -> dict[str, Any]:
    """Return ``{"label": "positive"|"negative"|"neutral", "score": compound}``."""
    total = 0.0
    weight_sum = 0
    analyzer = None
    for sentence in split_sentences(text or ""):
        for piece, weight in _pieces(sentence):
            if analyzer is None:
                analyzer = _get_analyzer()
            compound = float(analyzer.polarity_scores(piece)["compound"])
            total += compound * weight
            weight_sum += weight
    score = round(total / weight_sum, 4) if weight_sum else 0.0
    score = max(-1.0, min(1.0, score)) + 0.0  # "+ 0.0" turns -0.0 into 0.0
    return {"label": label_for(score), "score": score}


def label_for(score: float) -> str:
    """Map a compound score to VADER's standard label."""
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def _pieces(sentence: str) -> list[tuple[str, int]]:
    """The sentence (or its slices if very long) with word-count weights."""
    count = len(words(sentence))
    if count == 0:
        return []
    if count <= MAX_SENTENCE_WORDS:
        return [(sentence, count)]
    tokens = sentence.split()
    slices = [tokens[i : i + MAX_SENTENCE_WORDS] for i in range(0, len(tokens), MAX_SENTENCE_WORDS)]
    return [(" ".join(s), len(words(" ".join(s)))) for s in slices if words(" ".join(s))]


def _get_analyzer() -> Any:
    """Build VADER's analyzer once (it reads its lexicon files, ~30 ms)."""
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                _analyzer = SentimentIntensityAnalyzer()
    return _analyzer
