"""YAKE keyphrases and topic labels, offline and deterministic."""

from __future__ import annotations

import socket

import pytest

from eightflow.embedded import extract_topics, keyphrases

TEXT = """Machine learning models need large amounts of training data. Deep learning, a branch
of machine learning, uses neural networks with many layers. Training neural networks on
graphics processors cut training time from weeks to hours. Researchers now study how machine
learning models can learn from less training data, for example through transfer learning.
Data privacy rules also limit which training data companies may use."""


def test_finds_the_obvious_topics() -> None:
    topics = extract_topics(TEXT)["topics"]
    assert 1 <= len(topics) <= 5
    joined = " | ".join(topics)
    assert "machine learning" in joined
    assert "training data" in joined or "neural networks" in joined


@pytest.mark.parametrize("top_n", [1, 3, 5, 8])
def test_topics_are_lowercase_unique_and_not_nested(top_n: int) -> None:
    topics = extract_topics(TEXT, top_n=top_n)["topics"]
    assert 1 <= len(topics) <= top_n
    assert all(t == t.lower() and t.strip() == t for t in topics)
    assert len(set(topics)) == len(topics)
    for i, later in enumerate(topics):
        for better in topics[:i]:
            assert f" {later} " not in f" {better} ", (later, better)
            assert f" {better} " not in f" {later} ", (later, better)


def test_keyphrases_are_scored_and_sorted() -> None:
    phrases = extract_topics(TEXT)["keyphrases"]
    assert 1 <= len(phrases) <= 10
    scores = [p["score"] for p in phrases]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 and round(s, 4) == s for s in scores)
    assert all(isinstance(p["phrase"], str) and p["phrase"] for p in phrases)


def test_larger_top_n_lists_more_keyphrases() -> None:
    assert len(extract_topics(TEXT, top_n=12)["keyphrases"]) > 10


@pytest.mark.parametrize("text", ["", "   ", "the and of to", "!!! ??? ...", "1234 5678", None])
def test_nothing_to_say_gives_empty_lists(text: str) -> None:
    assert extract_topics(text) == {"topics": [], "keyphrases": []}


def test_absurd_tokens_are_not_topics() -> None:
    assert extract_topics("a" * 5000)["topics"] == []


def test_deterministic() -> None:
    assert extract_topics(TEXT) == extract_topics(TEXT)


def test_frequency_fallback_when_yake_gives_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyphrases, "_yake", lambda text, top: [])
    result = extract_topics(TEXT, top_n=4)
    assert 1 <= len(result["topics"]) <= 4
    assert any("training data" in t or "machine learning" in t for t in result["topics"])
    scores = [p["score"] for p in result["keyphrases"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 for s in scores)


def test_works_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedded model must not open network connections")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(keyphrases, "_extractors", {})  # build a fresh extractor offline
    assert extract_topics(TEXT)["topics"]


def test_long_document_within_bounds() -> None:
    text = (TEXT + "\n\n") * 260
    assert len(text) > 100_000
    result = extract_topics(text)  # how fast: bench/embedded.py
    assert result["topics"]


def test_long_documents_are_sampled_throughout_not_just_the_head() -> None:
    reef = (
        "Coral reefs bleach when ocean temperatures rise. Coral bleaching leaves reefs "
        "vulnerable to disease. Marine biologists monitor coral reefs with underwater drones."
    )
    text = (TEXT + "\n\n") * 150 + (reef + "\n\n") * 150
    assert text.find("Coral") > keyphrases.MAX_CHARS
    result = extract_topics(text, top_n=7)
    phrases = [p["phrase"].lower() for p in result["keyphrases"]] + result["topics"]
    assert any("coral" in p or "reef" in p for p in phrases)
    assert any("learning" in p or "training" in p for p in phrases)
