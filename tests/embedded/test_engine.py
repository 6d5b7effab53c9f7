"""The engine facade: task dispatch, task inference, document extraction."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

import eightflow.embedded as embedded
from eightflow.embedded import EmbeddedModel, UnknownTaskError, extract_document
from eightflow.embedded.engine import infer_task
from eightflow.embedded.text import split_sentences

DOC = """Acme Corp. reported strong results on March 1, 2024, and its chief executive
Maria Lopez said customers love the new battery. Revenue rose 12% to $4.5 billion, driven by
demand in Germany and Japan. Analysts at Goldman Sachs called the quarter excellent.

The company plans to open a research lab in Berlin next year. The lab will study battery
chemistry, solar storage and grid software. Lopez said the lab would hire 300 engineers.

Some investors worry about rising material costs. Still, Acme expects margins to improve as
production scales, and the board approved a dividend increase. Lopez thanked employees for
a remarkable year. Shares rose 4% in early trading. Suppliers in Japan welcomed the news.
The next report is due in the summer."""

EXPECTED_KEYS = {
    "summarization": {"summary", "key_points"},
    "topic_extraction": {"topics", "keyphrases"},
    "sentiment": {"label", "score", "confidence"},
    "entities": {"entities"},
}


def test_tasks() -> None:
    assert EmbeddedModel.TASKS == ("summarization", "topic_extraction", "sentiment", "entities")


@pytest.mark.parametrize("task", EmbeddedModel.TASKS)
def test_respond_dispatches_each_task(task: str) -> None:
    answer = EmbeddedModel().respond(task, DOC)
    assert set(answer) == EXPECTED_KEYS[task]


def test_respond_does_real_work() -> None:
    model = EmbeddedModel()
    assert model.respond("sentiment", DOC)["label"] == "positive"
    names = {e["text"] for e in model.respond("entities", DOC)["entities"]}
    assert {"Acme Corp.", "Maria Lopez", "Germany", "Berlin", "$4.5 billion"} <= names
    points = model.respond("summarization", DOC)["key_points"]
    assert len(points) == 3
    assert all(point in split_sentences(DOC) for point in points)


@pytest.mark.parametrize(
    ("params", "points", "topics"),
    [
        (None, 3, 5),
        ({}, 3, 5),
        ({"max_sentences": 1, "top_n": 2}, 1, 2),
        ({"max_sentences": "2", "top_n": "3"}, 2, 3),
        ({"max_sentences": "many", "top_n": None}, 3, 5),
        ({"max_sentences": True, "top_n": -4}, 3, 1),
    ],
)
def test_params(params: dict[str, object] | None, points: int, topics: int) -> None:
    model = EmbeddedModel()
    assert len(model.respond("summarization", DOC, params)["key_points"]) == points
    assert len(model.respond("topic_extraction", DOC, params)["topics"]) == topics


@pytest.mark.parametrize(
    ("task", "resolved"),
    [
        ("SENTIMENT", "sentiment"),
        (" entities ", "entities"),
        ("Summary", "summarization"),
        ("summarization.v1", "summarization"),
    ],
)
def test_task_names_are_forgiving(task: str, resolved: str) -> None:
    model = EmbeddedModel()
    assert model.respond(task, DOC) == model.respond(resolved, DOC)


@pytest.mark.parametrize("task", ["translation", "", "TopicSentiment", None, 3])
def test_unknown_task_raises_with_the_supported_list(task: object) -> None:
    with pytest.raises(UnknownTaskError) as caught:
        EmbeddedModel().respond(task, DOC)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert all(name in str(caught.value) for name in EmbeddedModel.TASKS)


def test_unknown_task_error_survives_pickling() -> None:
    error = UnknownTaskError("translation")
    clone = pickle.loads(pickle.dumps(error))
    assert isinstance(clone, UnknownTaskError)
    assert clone.task == "translation"
    assert str(clone) == str(error)


@pytest.mark.parametrize(
    ("name", "task"),
    [
        ("Summary", "summarization"),
        ("summarization", "summarization"),
        ("DocumentSummary", "summarization"),
        ("Topics", "topic_extraction"),
        ("topic_extraction", "topic_extraction"),
        ("Keyphrases", "topic_extraction"),
        ("Sentiment", "sentiment"),
        ("sentiment_result", "sentiment"),
        ("Entities", "entities"),
        ("EntityList", "entities"),
        ("NER", "entities"),
        ("Translation", None),
        ("TopicSentiment", None),
        ("", None),
        (None, None),
    ],
)
def test_infer_task(name: str | None, task: str | None) -> None:
    assert infer_task(name) == task
    assert EmbeddedModel.infer_task(name) == task
    assert EmbeddedModel().infer_task(name) == task


@pytest.mark.parametrize(
    ("message", "document"),
    [
        ("Summarize this.\n\n<document>\n  The text.  \n</document>", "The text."),
        ("No tags at all, just text.  ", "No tags at all, just text."),
        ("<document>first</document> and <document>second</document>", "second"),
        ('<Document id="1">Case and attributes</DOCUMENT>', "Case and attributes"),
        ("Intro <document>unclosed tail  ", "unclosed tail"),
        ("<document></document>", ""),
        ("", ""),
    ],
)
def test_extract_document(message: str, document: str) -> None:
    assert extract_document(message) == document


def test_deterministic_across_instances() -> None:
    for task in EmbeddedModel.TASKS:
        assert EmbeddedModel().respond(task, DOC) == EmbeddedModel().respond(task, DOC)


@pytest.mark.parametrize("task", EmbeddedModel.TASKS)
def test_fast_on_a_few_paragraphs(task: str) -> None:
    model = EmbeddedModel()
    model.respond(task, DOC)  # warm up: lazy imports, lexicons, compiled patterns
    started = time.perf_counter()
    for _ in range(5):
        model.respond(task, DOC)
    assert (time.perf_counter() - started) / 5 < 0.2


@pytest.mark.parametrize("task", EmbeddedModel.TASKS)
def test_answers_match_the_prompt_output_schemas(task: str) -> None:
    schemas = pytest.importorskip("tasks.analysis.schemas")
    schema = {
        "summarization": schemas.Summary,
        "topic_extraction": schemas.Topics,
        "sentiment": schemas.Sentiment,
        "entities": schemas.Entities,
    }[task]
    for text in (DOC, "", "!!!", "a"):
        schema.model_validate(EmbeddedModel().respond(task, text))


def test_public_api() -> None:
    assert set(embedded.__all__) >= {
        "EmbeddedModel",
        "UnknownTaskError",
        "extract_document",
        "summarize",
        "extract_topics",
        "analyze_sentiment",
        "extract_entities",
    }


def test_import_is_cheap_and_isolated() -> None:
    code = (
        "import sys, eightflow.embedded as e; "
        "print(sorted(m for m in ('yake', 'vaderSentiment', 'litellm', 'prefect') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    source = Path(embedded.__file__).parent
    for path in source.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import litellm" not in text and "import prefect" not in text, path.name
