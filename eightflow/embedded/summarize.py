"""Extractive summarization with TextRank.

Without a generative model the honest summary is an extractive one: the sentences most
central to the document, quoted verbatim and in their original order. Centrality is
TextRank (Mihalcea & Tarau, 2004): sentences are nodes, edges weigh normalized content-word
overlap, and PageRank's power iteration scores them. Everything is pure Python, ordered
by sentence index, so the output is deterministic.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from itertools import islice
from typing import Any

from eightflow.embedded.credits import credit_line, name_of_line, split_credits
from eightflow.embedded.prose import find_title, prose_sentences
from eightflow.embedded.readable import (
    MAX_SUMMARY_CHARS,
    MAX_SUMMARY_SENTENCES,
    is_menu,
    strip_markup,
    unreadable,
)
from eightflow.embedded.readable import sentences as split_summary
from eightflow.embedded.text import STOPWORDS, clip, split_sentences, words

__all__ = ["summarize"]

DAMPING = 0.85
MAX_ITERATIONS = 100
TOLERANCE = 1e-9
#: Above this many sentences, a cheap frequency score pre-selects the TextRank candidates,
#: so the quadratic graph stays bounded on very long documents.
MAX_CANDIDATES = 300
KEY_POINT_CHARS = 300
#: The longest title a summary opens with (a longer "title" is a sentence).
TITLE_CHARS = 150
#: Among this many opening sentences, the first naming the subject leads the summary.
LEAD_WINDOW = 5
#: How much more central a sentence naming the document's subject counts (x 1 + this).
SUBJECT_BONUS = 0.5
#: Sentences near the opening count up to (1 + this) times more, fading over EARLY_SPAN.
EARLY_BONUS = 1.0
EARLY_SPAN = 10
#: A sentence ending in a colon introduces a command or list the summary leaves out.
COLON_PENALTY = 0.5
#: Title words that name a kind of document, not its subject.
DOCUMENT_WORDS = frozenset(
    (
        "faq",
        "frequently",
        "asked",
        "question",
        "readme",
        "manual",
        "guide",
        "introduction",
        "overview",
        "notes",
        "note",
        "release",
        "changelog",
        "news",
        "documentation",
        "page",
        "reference",
        "howto",
        "tutorial",
        "quick",
        "start",
        "version",
        "debian",
    )
)
#: Sentences shorter than this (headings, bullet fragments) are chosen only as a last resort.
MIN_WORDS = 4
_COLUMNS = re.compile(r"\S(?:[ ]{3,}|\t)\S")
#: A one-word heading ("Report", "jq") says too little to open a summary with.
MIN_TITLE_WORDS = 2
#: A line of fewer words ending in a colon opens a list ("Some features include:").
LIST_OPENER_WORDS = 6
#: A summary of fewer words takes one more sentence, when the document has one.
MIN_SUMMARY_WORDS = 12


def summarize(text: str, max_sentences: int = 3) -> dict[str, Any]:
    """Summarize ``text`` as ``{"summary": str, "key_points": list[str]}``.

    Only prose is read (:mod:`eightflow.embedded.prose`): code, navigation, asides and
    notices are skipped, and each candidate sentence is cleaned of markup and dropped when
    it still holds markup, a menu or code (:mod:`eightflow.embedded.readable`). Picks
    about one sentence per four (at least one, at most ``max_sentences``), so a
    three-sentence note is not "summarized" by itself. A document with a title (a README,
    a licence, a manual page) is summarized the way a reader skims it: the title, then its
    first informative sentence, then the most central others, those naming the subject
    (the title's own words) first; plain prose is summarized by centrality alone. The
    summary keeps whole sentences within :data:`MAX_SUMMARY_SENTENCES` sentences and
    :data:`MAX_SUMMARY_CHARS` characters; ``key_points`` may list more when asked.
    """
    # a credit list's name and contribution lines are never quoted (see .credits)
    text, credited = split_credits(text or "")
    every = split_sentences(text)
    if not every:
        return {"summary": credit_line(None, credited, MAX_SUMMARY_CHARS), "key_points": []}
    prose = prose_sentences(text)
    raw = prose or every
    limit = max(1, int(max_sentences))
    cap = min(limit, MAX_SUMMARY_SENTENCES)
    want = min(limit, max(1, math.ceil(len(raw) / 4)))
    found = find_title(text, prose)
    subject = _subject_words(found)
    title = _readable_title(found)
    sentences = [strip_markup(s) for s in raw]
    tokens = [words(s) for s in sentences]
    unique = [i for i in _first_occurrences(tokens) if tokens[i]]
    verdicts: dict[int, bool] = {}

    # judged lazily, only for the sentences a summary may take; text laid out in columns
    # is a table or a credit list whose lines the splitter joined ("Jane Doe   wrote the
    # port John Smith   tested it"): quoting it would credit one person's work to another
    def readable(i: int) -> bool:
        if i not in verdicts:
            verdicts[i] = (
                not _COLUMNS.search(raw[i])
                and not unreadable(sentences[i])
                and name_of_line(sentences[i]) is None  # a bare name is no summary
                and not (credited and len(tokens[i]) < MIN_WORDS)  # nor a credit heading
            )
        return verdicts[i]

    bags = {i: _content_words(tokens[i]) for i in unique}
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
    names = {i for i in indices if subject & bags[i]}
    # A document with a title or with non-prose parts is structured: its first
    # informative sentence usually says what it is, so it opens the summary (the first
    # of the opening few that names the subject, when one does).
    structured = title is not None or len(raw) < len(every)
    opening = [i for i in indices[:LEAD_WINDOW] if i in names and readable(i)]
    opening = opening or [i for i in indices if readable(i)][:1]
    lead = opening[:1] if structured else []
    rest = [i for i in indices if i not in lead]
    if len(rest) > MAX_CANDIDATES:
        rest = _preselect(rest, bags, MAX_CANDIDATES)
    scores = _weigh(rest, textrank([bags[i] for i in rest]), names, sentences)
    ranked = lead + [rest[k] for k in sorted(range(len(rest)), key=lambda k: (-scores[k], k))]
    prefix = f"{title}: " if title is not None else ""
    # a few words ending in a colon ("In alphabetical order:") only introduce what the
    # summary leaves out: taken when nothing else fits; a summary of a few words says too
    # little: it takes one more sentence
    plain = [i for i in ranked if not _list_opener(sentences[i], tokens[i])]
    # (up to half the document's sentences, within the caller's limit)
    size = min(want, MAX_SUMMARY_SENTENCES)
    while True:
        chosen = _fit(plain, sentences, prefix, size, readable)
        chosen = chosen or _fit(ranked, sentences, prefix, size, readable)
        short = sum(len(tokens[i]) for i in chosen) < MIN_SUMMARY_WORDS
        if not short or len(chosen) < size or (size + 1) * 2 > len(indices) or size >= cap:
            break
        size += 1
    if chosen:
        summary = prefix + " ".join(sentences[i] for i in sorted(chosen))
    elif credited:
        summary = credit_line(
            title or _readable_title(found, min_words=1), credited, MAX_SUMMARY_CHARS
        )
    else:  # nothing whole fits: the title, else the best sentence cut short, else a heading
        best = next((i for i in ranked if readable(i)), None)
        chosen = [] if best is None else [best]
        cut = clip(sentences[best], MAX_SUMMARY_CHARS) if best is not None else None
        summary = title or cut or _readable_title(found, min_words=1) or ""
    more = (i for i in ranked if i not in chosen and readable(i))
    points = sorted(chosen + list(islice(more, max(0, want - len(chosen)))))
    return {
        "summary": summary,
        "key_points": [clip(sentences[i], KEY_POINT_CHARS) for i in points],
    }


_SMILEY = re.compile(r"[:;]-?[()\]\[]")
_TRAILING_SMILEY = re.compile(r"\s+[:;]-?[()\]\[]\s*$")


def _list_opener(sentence: str, tokens: list[str]) -> bool:
    """A short line ending in a colon, which opens a list or a command."""
    return len(tokens) < LIST_OPENER_WORDS and sentence.rstrip().endswith(":")


_ENDS_SENTENCE = re.compile(r"[.!?][\"')\]]*\s*$")


def _weigh(
    rest: list[int], scores: list[float], names: set[int], sentences: list[str]
) -> list[float]:
    """TextRank centrality weighed the way a reader skims: sentences naming the subject
    and sentences near the opening count more; one ending in a colon (its command or
    list left out) counts less."""
    weighed = []
    for rank, (i, score) in enumerate(zip(rest, scores, strict=True)):
        score *= 1.0 + (SUBJECT_BONUS if i in names else 0.0)
        score *= 1.0 + EARLY_BONUS * max(0.0, 1.0 - rank / EARLY_SPAN)
        if sentences[i].rstrip().endswith(":"):
            score *= COLON_PENALTY
        weighed.append(round(score, 12))
    return weighed


def _fit(
    ranked: list[int],
    sentences: list[str],
    prefix: str,
    want: int,
    readable: Callable[[int], bool],
) -> list[int]:
    """Sentences taken in rank order while the summary they make stays readable: at most
    ``want`` sentences and the character limit, whole sentences only (never spliced)."""
    for joined_check in (False, True):
        chosen: list[int] = []
        for i in ranked:
            if len(chosen) == want:
                break
            order = sorted([*chosen, i])
            # a heading or a list line has no full stop: joined to what follows it, it
            # reads as one sentence ("Thanks Karl Beldan Karl Berry") that the document
            # never wrote, so only the last piece may lack a sentence's ending
            if any(not _ENDS_SENTENCE.search(sentences[j]) for j in order[:-1]):
                continue
            summary = prefix + " ".join(sentences[j] for j in order)
            if len(summary) > MAX_SUMMARY_CHARS or not readable(i):
                continue
            if joined_check and unreadable(summary):
                continue
            if len(split_summary(summary)) <= MAX_SUMMARY_SENTENCES:
                chosen.append(i)
        # each sentence is readable; joined, they still are unless a menu spans two
        if not unreadable(prefix + " ".join(sentences[j] for j in sorted(chosen))):
            break
    return chosen


def _readable_title(found: str | None, min_words: int = MIN_TITLE_WORDS) -> str | None:
    """The title as a summary may open with it: markup stripped, at least ``min_words``
    words, short, and neither code (a changelog header) nor a menu; else None."""
    if found is None:
        return None
    title = strip_markup(found).strip().rstrip(":").strip()
    if len(words(title)) < min_words or len(title) > TITLE_CHARS or unreadable(title):
        return None
    return title


def _subject_words(found: str | None) -> frozenset[str]:
    """What the document is about, as its title names it: the title's content words
    before any parenthesis ("dash (0.5.12-2) unstable; ..." -> dash), less the words
    that name a kind of document ("FAQ", "README", "manual")."""
    if not found or is_menu(found):  # a menu opening the page names no subject
        return frozenset()
    head = strip_markup(found).split("(")[0]
    return _content_words(words(head)) - DOCUMENT_WORDS


def _is_sentence(text: str) -> bool:
    """A whole sentence: it ends like one, its brackets balance, it holds words rather
    than one path ("/usr/lib/python3.*/EXTERNALLY-MANAGED."), it is not shouted (an
    all-capitals notice), and it does not open mid-clause with a function word or an
    abbreviation ("so that further changes are still saved.", "e.g. instead of")."""
    stripped = _TRAILING_SMILEY.sub("", text.strip())  # "... important. :-)"
    if not stripped.rstrip("\"')]").endswith((".", "!", "?", ":", ";")):
        return False
    balanced = _SMILEY.sub(" ", stripped)  # ":-)" closes no bracket
    if any(balanced.count(a) != balanced.count(b) for a, b in ("()", "[]")):
        return False
    tokens = stripped.split()
    if len(tokens) < 2 or stripped.isupper():
        return False
    first = tokens[0]
    if not first[0].islower():
        return True
    return first.lower() not in STOPWORDS and not first.endswith(".")  # "e.g. instead"


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
