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

Three document-level rules then judge what the average alone gets wrong, in this order:

- **genre**: a title line naming the document's genre (``data/sentiment_genre_titles.txt``:
  "BUGS", "Known bugs:", "Security advisory"; "Thanks to:", "Credits") gives that genre's
  polarity unless the text clearly says the opposite (:data:`GENRE_VETO`). A bug list
  states its defects flatly, and a thanks file lists names: neither reads polar word by word.
- **abstention**: a document of several sentences none of which is clearly opinionated
  (:data:`OPINION`) is neutral whatever its average: a small drift is no opinion, and a
  neutral answer is better than a wrong polarity.
- **one-sided opinion**: when the clearly opinionated sentences all lean one way and are a
  fair share of the document (:data:`ONE_SIDED_SHARE`), that way wins over an average
  diluted by long factual sentences.

The answer carries its ``basis`` (which rule decided), so :mod:`.confidence` can say how
often answers of that kind are right.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any

from eightflow.embedded.prose import prose_sentences, prose_text
from eightflow.embedded.resources import data_lines, data_words
from eightflow.embedded.text import split_sentences, words

__all__ = ["BASES", "analyze_sentiment", "domain_valences", "genre_of", "label_for"]

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
#: Title lines that name a genre with a polarity (a bug list, a thanks file).
GENRE_TITLES = "sentiment_genre_titles.txt"
#: A genre's polarity stands unless the average says the opposite beyond this.
GENRE_VETO = 0.3
#: A sentence whose |compound| reaches this states an opinion.
OPINION = 0.4
#: Abstention applies from this many sentences (a one-line text is judged by its words).
ABSTAIN_MIN_SENTENCES = 3
#: One-sided opinion: at least this many opinionated sentences, all one way, making up at
#: least this share of the sentences.
ONE_SIDED_MIN = 2
ONE_SIDED_SHARE = 0.25
#: Which rule decided a label: VADER's cut-offs, the reference band, a genre title,
#: abstention or a one-sided opinion.
BASES = ("lexicon", "reference", "genre", "abstain", "one-sided")

#: The title is the first non-blank line among the first few; a long line is no title.
GENRE_TITLE_LINES = 5
GENRE_TITLE_CHARS = 60
_TITLE_MARKS = re.compile(r"^[#=*_\-\s]+|[#=*_\s]+$")

_lock = threading.Lock()
_analyzer: Any = None


def analyze_sentiment(text: str) -> dict[str, Any]:
    """Return ``{"label": "positive"|"negative"|"neutral", "score": compound, "basis":
    rule}`` (``basis`` is one of :data:`BASES`)."""
    total = 0.0
    weight_sum = 0
    analyzer = None
    opinions = {"positive": 0, "negative": 0}
    sentences = prose_sentences(text or "") or split_sentences(text or "")
    for sentence in sentences:
        for piece, weight in _pieces(sentence):
            if analyzer is None:
                analyzer = _get_analyzer()
            compound = float(analyzer.polarity_scores(piece)["compound"])
            total += compound * weight
            weight_sum += weight
            if abs(compound) >= OPINION:
                opinions["positive" if compound > 0 else "negative"] += 1
    score = round(total / weight_sum, 4) if weight_sum else 0.0
    score = max(-1.0, min(1.0, score)) + 0.0  # "+ 0.0" turns -0.0 into 0.0
    label, basis = _decide(text or "", score, len(sentences), opinions)
    return {"label": label, "score": score, "basis": basis}


def _decide(text: str, score: float, count: int, opinions: dict[str, int]) -> tuple[str, str]:
    """The label and the rule that chose it (see the module doc for the order)."""
    genre = genre_of(text)
    against = -score if genre == "positive" else score
    if genre is not None and against < GENRE_VETO:
        return genre, "genre"
    if count >= ABSTAIN_MIN_SENTENCES and not any(opinions.values()):
        return "neutral", "abstain"
    for side, other in (("positive", "negative"), ("negative", "positive")):
        many, few = opinions[side], opinions[other]
        if many >= ONE_SIDED_MIN and many >= ONE_SIDED_SHARE * count and not few:
            return side, "one-sided"
    if is_reference_text(text, count):
        return label_for(score, REFERENCE_BAND), "reference"
    return label_for(score), "lexicon"


def genre_of(text: str) -> str | None:
    """The polarity of the genre the document's title line names, if it names one."""
    for line in text.splitlines()[:GENRE_TITLE_LINES]:
        title = _TITLE_MARKS.sub("", line).strip().rstrip(":").strip().lower()
        if not title:
            continue
        if len(title) > GENRE_TITLE_CHARS:
            return None
        for label, pattern in _genre_patterns():
            if pattern.fullmatch(title):
                return label
        return None
    return None


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


@cache
def _genre_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """``data/sentiment_genre_titles.txt`` as ``(label, compiled regex)`` pairs."""
    pairs = (line.split(None, 1) for line in data_lines(GENRE_TITLES))
    return tuple((label, re.compile(pattern)) for label, pattern in pairs)


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
