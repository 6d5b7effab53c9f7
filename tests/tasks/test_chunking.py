"""Token-counted chunking: every chunk fits, nothing is lost, order is kept."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from eightflow_app.tasks.chunking import chunk_text

from tests.support.corpus import synthetic_document


def words(text: str) -> int:
    return len(text.split())


def tiktoken_count(text: str) -> int:
    import litellm

    return int(litellm.token_counter(model="gpt-4o-mini", text=text))


def _paragraphs() -> str:
    return "\n\n".join(synthetic_document(i, paragraphs=2) for i in range(6))


def _one_huge_sentence() -> str:
    return " ".join(f"word{i}" for i in range(3000)) + "."


def _long_sentences() -> str:
    return " ".join(f"Sentence {i} says " + "very " * 40 + "much." for i in range(40))


def _mixed() -> str:
    return "Short intro.\n\n" + _one_huge_sentence() + "\n\n\n\n" + _paragraphs() + "\n\nEnd."


TEXTS: dict[str, Callable[[], str]] = {
    "paragraphs": _paragraphs,
    "one-huge-sentence": _one_huge_sentence,
    "long-sentences": _long_sentences,
    "mixed": _mixed,
}
COUNTERS: dict[str, Callable[[str], int]] = {"words": words, "tiktoken": tiktoken_count}


@pytest.mark.parametrize("limit", [16, 64, 500])
@pytest.mark.parametrize("counter", sorted(COUNTERS))
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_chunks_fit_and_cover_the_text_in_order(name: str, counter: str, limit: int) -> None:
    text, count = TEXTS[name](), COUNTERS[counter]
    chunks = chunk_text(text, limit, count)
    assert len(chunks) > 1
    assert all(chunk.strip() for chunk in chunks)
    assert max(count(chunk) for chunk in chunks) <= limit
    # All the words, in order: chunking only moves whitespace.
    assert " ".join(chunks).split() == text.split()


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_text_that_fits_is_one_chunk_unchanged(name: str) -> None:
    text = TEXTS[name]()
    assert chunk_text(text, tiktoken_count(text), tiktoken_count) == [text]
    assert chunk_text("  a few words  ", 16, words) == ["  a few words  "]


def test_paragraphs_are_not_split_when_they_fit() -> None:
    text = _paragraphs()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    limit = max(tiktoken_count(p) for p in paragraphs) + 1
    chunks = chunk_text(text, limit, tiktoken_count)
    for paragraph in paragraphs:
        assert any(paragraph in chunk for chunk in chunks), paragraph[:60]


def test_limit_below_16_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        chunk_text("anything", 15, words)


@pytest.mark.parametrize(
    "text",
    [
        "x" * 20_000,
        "東京都の会議で新しい計画が発表されました。" * 400,
        "See https://example.org/" + "a1b2" * 3000 + " for details.",
    ],
    ids=["no-spaces", "japanese", "long-url"],
)
def test_text_without_spaces_is_still_cut_to_the_limit(text: str) -> None:
    chunks = chunk_text(text, 256, tiktoken_count)
    assert max(tiktoken_count(chunk) for chunk in chunks) <= 256
    assert "".join("".join(chunks).split()) == "".join(text.split())


@pytest.mark.prefect
async def test_long_document_is_summarized_map_reduce() -> None:
    """~22k tokens (over twice the embedded model's 8k window) through the real workflow."""
    from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow

    from eightflow import Document

    text = synthetic_document(7, paragraphs=250)
    assert 18_000 < tiktoken_count(text) < 26_000
    result = await DocumentAnalysisWorkflow().execute(
        document=Document.from_text(text, id="long.txt")
    )
    assert result.ok, result.error
    assert result.outputs["summary"] and result.outputs["topics"]
    summarization = result.step("summarization")
    chunking = summarization.notes["chunking"]
    assert chunking["strategy"] == "map-reduce"
    assert set(chunking) == {"strategy", "chunks", "max_tokens", "chunk_tokens"}
    assert chunking["chunks"] > 1
    assert len(chunking["chunk_tokens"]) == chunking["chunks"]
    assert all(0 < n <= chunking["max_tokens"] for n in chunking["chunk_tokens"])
    assert sum(chunking["chunk_tokens"]) >= 18_000
    # One call per chunk, then at least one to summarize the summaries.
    assert len(summarization.calls) >= chunking["chunks"] + 1
    for step in ("sentiment", "entities"):
        notes = result.step(step).notes["chunking"]
        assert len(result.step(step).calls) == notes["chunks"] > 1


def test_sentences_are_cut_by_the_shared_splitter() -> None:
    # One splitter for the embedded model and chunking: no cut after "Dr." or "e.g.".
    from eightflow.embedded.text import split_sentences

    sentence = "Dr. Smith met the board, e.g. Ms. Jones, about the plan " + "again " * 6 + "today."
    paragraph = " ".join([sentence] * 6)
    chunks = chunk_text(paragraph, max(words(sentence), 16) + 1, words)
    assert chunks == split_sentences(paragraph) == [sentence] * 6
