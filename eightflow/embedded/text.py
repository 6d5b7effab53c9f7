"""Text helpers shared by the embedded engine's tasks.

The embedded model must run offline and deterministically, so sentence splitting is done
with regular expressions rather than NLTK's punkt (whose data would have to be downloaded).
The splitter is tuned for the documents eightflow sees: prose with abbreviations
("Mr.", "Inc.", "e.g.", "U.S."), decimals, and markdown-ish structure where headings,
bullets and blank lines are boundaries even without a full stop.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "STOPWORDS",
    "clip",
    "count_tokens_approx",
    "extract_document",
    "sentence_ends",
    "split_sentences",
    "words",
]


def _wordset(block: str) -> frozenset[str]:
    return frozenset(block.split())


#: A small English stopword set: function words that carry no topic on their own.
STOPWORDS: frozenset[str] = _wordset(
    """
    a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did
    didn't do does doesn't doing don't down during each either else ever every few for
    from further had hadn't has hasn't have haven't having he he'd he'll he's her here
    here's hers herself him himself his how how's however i i'd i'll i'm i've if in into
    is isn't it it's its itself just let's may me might more most must mustn't my myself
    neither no nor not now of off on once one only or other ought our ours ourselves out
    over own per rather said same say says shall shan't she she'd she'll she's should
    shouldn't since so some such than that that's the their theirs them themselves then
    there there's these they they'd they'll they're they've this those though through
    thus to too under until up upon us very via was wasn't we we'd we'll we're we've
    were weren't what what's when when's where where's whether which while who who's
    whom whose why why's will with within without won't would wouldn't yet you you'd
    you'll you're you've your yours yourself yourselves
    """
)

# Abbreviations after which a period never ends a sentence (titles, "e.g.", "No. 5").
_NEVER_TERMINAL = _wordset(
    """
    mr mrs ms dr prof sr st mt ft sen rep gen gov col lt capt sgt rev hon pres fig figs
    vol vols e.g i.e cf vs approx ca dept univ assn ave blvd rd
    """
)
# Abbreviations that may also close a sentence ("... joined Acme Inc. The deal ...").
_MAYBE_TERMINAL = _wordset(
    """
    inc ltd co corp llc plc etc jr bros al no nos a.m p.m u.s u.k u.n e.u u.s.a jan feb
    mar apr jun jul aug sep sept oct nov dec
    """
)
# Capitalized words that typically open a sentence; after a "maybe terminal" abbreviation
# they tip the decision towards a boundary.
_SENTENCE_OPENERS = _wordset(
    """
    the a an it he she we they i this that these those there in on at but and however
    meanwhile also its his her their our after before when while although yet so if as
    for by with from
    """
)

_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_BOUNDARY_RE = re.compile(r"[.!?…]+[\"'”’)\]]*\s+")
_BULLET_RE = re.compile(r"^\s*(?:[-*•‣◦▪·–—+]|\d{1,3}[.)]|[a-z]\))\s+")
_HEADING_RE = re.compile(r"^\s*#{1,6}\s+")
_INITIAL_RE = re.compile(r"^(?:[A-Z]|(?:[A-Za-z]\.)+[A-Za-z])$")
_TERMINAL_END_RE = re.compile(r"[.!?…][\"'”’)\]]*$")
_WRAPPED_LINE = 60  # a line this long without final punctuation is a hard-wrapped one


def words(text: str) -> list[str]:
    """Lowercased word tokens (letters/digits, inner apostrophes kept: "don't")."""
    return _WORD_RE.findall(text.lower()) if text else []


def count_tokens_approx(text: str) -> int:
    """Rough LLM token count (≈ words × 1.3), only for when no real tokenizer is at hand."""
    n = len(words(text))
    return math.ceil(n * 1.3) if n else 0


def clip(text: str, limit: int) -> str:
    """Trim ``text`` to at most ``limit`` characters, cutting on a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences.

    Blank lines, headings and bullet items always start a new unit; a single newline is a
    soft wrap (joined) unless the line before looks like a title. Inside a unit, ``.!?``
    followed by whitespace and an uppercase letter, digit or quote ends a sentence, except
    after known abbreviations and initials.
    """
    if not text or not text.strip():
        return []
    sentences: list[str] = []
    for block in _blocks(text):
        sentences.extend(_split_block(block))
    return sentences


def _blocks(text: str) -> list[str]:
    """Group lines into paragraphs, bullets and headings (markers stripped)."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
            continue
        heading = _HEADING_RE.match(line)
        bullet = _BULLET_RE.match(line)
        if heading:
            flush()
            blocks.append(line[heading.end() :].strip())
            continue
        if bullet:
            flush()
            current.append(line[bullet.end() :].strip())
            continue
        if current and not _continues(current[-1], line):
            flush()
        current.append(line)
    flush()
    return [b for b in blocks if b]


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` continues the paragraph whose last line is ``previous``."""
    if line[0].islower() or _TERMINAL_END_RE.search(previous):
        return True
    if previous.endswith(":"):
        return False
    return len(previous) >= _WRAPPED_LINE


def sentence_ends(block: str) -> list[int]:
    """Offsets where a sentence of ``block`` ends: the splitter's rule, losing nothing.

    For callers that must keep every character (chunking); ``split_sentences`` uses it too.
    """
    return [
        m.end()
        for m in _BOUNDARY_RE.finditer(block)
        if m.end() < len(block) and _is_boundary(block, m.start(), m.end())
    ]


def _split_block(block: str) -> list[str]:
    out: list[str] = []
    start = 0
    for end in sentence_ends(block):
        piece = block[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    tail = block[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if _WORD_RE.search(s)]


def _is_boundary(block: str, punct_at: int, next_at: int) -> bool:
    nxt = block[next_at]
    if not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘([*"):
        return False
    if block[punct_at] != "." or block[punct_at : punct_at + 2] == "..":
        return True
    token = block[:punct_at].rsplit(None, 1)[-1] if block[:punct_at].strip() else ""
    token = token.lstrip("\"'“‘([")
    if not token:
        return True
    lowered = token.lower()
    if lowered in _NEVER_TERMINAL:
        return False
    if _INITIAL_RE.match(token):
        # "J. Smith", "U.S" -> an initial or dotted acronym; the latter may end a sentence.
        return len(token) > 1 and _opens_sentence(block, next_at)
    if lowered in _MAYBE_TERMINAL:
        return _opens_sentence(block, next_at)
    return True


def _opens_sentence(block: str, at: int) -> bool:
    match = _WORD_RE.match(block, at)
    return match is not None and match.group(0).lower() in _SENTENCE_OPENERS


_DOCUMENT_RE = re.compile(r"<document\b[^>]*>(.*?)</document\s*>", re.IGNORECASE | re.DOTALL)
_OPEN_TAG_RE = re.compile(r"<document\b[^>]*>", re.IGNORECASE)


def extract_document(user_message: str) -> str:
    """The text inside the last ``<document>...</document>`` block, stripped.

    Prompts wrap the input in these tags; a message without them is the document itself.
    An opening tag without its closing tag takes everything after it.
    """
    if not user_message:
        return ""
    blocks = _DOCUMENT_RE.findall(user_message)
    if blocks:
        return str(blocks[-1]).strip()
    opened = list(_OPEN_TAG_RE.finditer(user_message))
    if opened:
        return user_message[opened[-1].end() :].strip()
    return user_message.strip()
