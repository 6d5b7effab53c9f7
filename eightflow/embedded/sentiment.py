"""Document sentiment with VADER.

VADER is a lexicon-and-rules sentiment model whose lexicon ships inside the
``vaderSentiment`` package, so it works offline and deterministically. Its compound score
sums word valences and squashes the sum, which saturates at ±1 on long texts; scoring each
sentence and averaging the compounds weighted by sentence length keeps a long, mostly
factual report with one angry line from reading as furious.

Real reference documents (licences, READMEs, manuals, changelogs) need three more
things. Only their prose is scored (:mod:`eightflow.embedded.prose`), not their code,
navigation or licence notices. Terms of art listed in ``data/sentiment_neutral_terms.txt``
lose their VADER valence ("free software", "support for", "error messages"); software's own
evaluative words in ``data/sentiment_domain_terms.txt`` gain one ("crashes",
"vulnerabilities", "exploited"; "blazing", "seamless", "rock-solid"). And a
document of several sentences written in a technical or legal register (dense in the
words of ``data/register_terms.txt``, or carrying code) is labelled polar only when its
average leans clearly (:data:`REFERENCE_BAND`): reference text drifts a little positive
or negative without expressing any opinion.
"""

from __future__ import annotations

import threading
from typing import Any

from eightflow.embedded.prose import prose_sentences, prose_text
from eightflow.embedded.resources import data_lines, data_words
from eightflow.embedded.text import split_sentences, words

__all__ = ["analyze_sentiment", "domain_valences", "label_for"]

#: VADER's standard cut-offs on the compound score.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
#: VADER is applied per sentence; a "sentence" longer than this (a wall of text without
#: punctuation) is scored in slices so each compound stays meaningful.
MAX_SENTENCE_WORDS = 80
#: Terms of art whose VADER valence is dropped ("free software", "error messages").
NEUTRAL_TERMS = "sentiment_neutral_terms.txt"
#: Software words with the valence they carry there ("crashes -1.7", "seamless 1.6").
DOMAIN_TERMS = "sentiment_domain_terms.txt"
#: Words of technical and legal register, and how dense they make reference text.
REGISTER_TERMS = "register_terms.txt"
REGISTER_DENSITY = 0.04
#: With code lines (blanked by prose_text) a lower density suffices.
REGISTER_DENSITY_WITH_CODE = 0.025
CODE_LINE_SHARE = 0.05
#: Reference text needs at least this many prose sentences, and is polar only beyond
#: this average compound (VADER's own cut-off, 0.05, is made for single sentences).
REFERENCE_MIN_SENTENCES = 5
REFERENCE_BAND = 0.2

_lock = threading.Lock()
_analyzer: Any = None


def analyze_sentiment(text: str) -> dict[str, Any]:
    """Return ``{"label": "positive"|"negative"|"neutral", "score": compound}``."""
    total = 0.0
    weight_sum = 0
    analyzer = None
    sentences = prose_sentences(text or "") or split_sentences(text or "")
    for sentence in sentences:
        for piece, weight in _pieces(sentence):
            if analyzer is None:
                analyzer = _get_analyzer()
            compound = float(analyzer.polarity_scores(piece)["compound"])
            total += compound * weight
            weight_sum += weight
    score = round(total / weight_sum, 4) if weight_sum else 0.0
    score = max(-1.0, min(1.0, score)) + 0.0  # "+ 0.0" turns -0.0 into 0.0
    band = REFERENCE_BAND if is_reference_text(text or "", len(sentences)) else None
    return {"label": label_for(score, band), "score": score}


def label_for(score: float, band: float | None = None) -> str:
    """Map a compound score to a label: VADER's cut-offs, or ``±band`` when given."""
    upper, lower = (band, -band) if band is not None else (POSITIVE_THRESHOLD, NEGATIVE_THRESHOLD)
    if score >= upper:
        return "positive"
    if score <= lower:
        return "negative"
    return "neutral"


def is_reference_text(text: str, sentence_count: int) -> bool:
    """Whether ``text`` reads as technical or legal reference text (see the module doc)."""
    if sentence_count < REFERENCE_MIN_SENTENCES:
        return False
    tokens = words(text)
    if not tokens:
        return False
    terms = data_words(REGISTER_TERMS)
    density = sum(1 for t in tokens if t in terms) / len(tokens)
    if density >= REGISTER_DENSITY:
        return True
    lines = sum(1 for line in text.splitlines() if line.strip())
    prose_lines = sum(1 for line in prose_text(text).splitlines() if line.strip())
    code_share = 1 - prose_lines / lines if lines else 0.0
    return density >= REGISTER_DENSITY_WITH_CODE and code_share >= CODE_LINE_SHARE


def domain_valences() -> dict[str, float]:
    """``data/sentiment_domain_terms.txt`` as ``{word: valence}``."""
    valences = {}
    for line in data_lines(DOMAIN_TERMS):
        word, valence = line.rsplit(None, 1)
        valences[word.lower()] = float(valence)
    return valences


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

                analyzer = SentimentIntensityAnalyzer()
                for term in data_words(NEUTRAL_TERMS):
                    analyzer.lexicon.pop(term, None)
                analyzer.lexicon.update(domain_valences())
                _analyzer = analyzer
    return _analyzer
