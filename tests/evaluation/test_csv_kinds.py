"""The labelled-CSV kinds: real model calls through the gateway, scored against CSVs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eightflow.evaluation import (
    EvalRow,
    EvaluationError,
    TaskKind,
    csv_kinds,
    detect_task,
    evaluate,
    load_dataset,
    register_task_kind,
)
from eightflow.store.ledger import default_ledger

REPO = Path(__file__).resolve().parents[2]
SENTIMENT = REPO / "examples" / "eval" / "sentiment.csv"
ENTITIES = REPO / "examples" / "eval" / "entities.csv"

# Measured with the embedded model (deterministic): 35 of 42 sentences right; 67 of the
# 68 entities it found are expected, out of 76 expected.
SENTIMENT_ACCURACY = 35 / 42
ENTITY_PRECISION = 67 / 68
ENTITY_RECALL = 67 / 76
ENTITY_F1 = 134 / 144


def _stable(result):  # type: ignore[no-untyped-def]
    return result.model_dump(exclude={"eval_id", "duration_ms"})


def test_shipped_sentiment_set_gives_stable_numbers(home: Path) -> None:
    first = evaluate(SENTIMENT, workflow="document_analysis")
    second = evaluate(SENTIMENT, workflow="document_analysis")
    assert _stable(first) == _stable(second)
    assert first.eval_id != second.eval_id
    assert (first.task, first.prompt, first.model) == (
        "sentiment",
        "sentiment@v1",
        "local/embedded",
    )
    assert (first.rows, first.errors, first.metric) == (42, 0, "accuracy")
    assert 0.6 <= first.value <= 1.0  # type: ignore[operator]
    assert first.value == pytest.approx(SENTIMENT_ACCURACY, abs=1e-9)
    assert first.metrics["accuracy"] == pytest.approx(SENTIMENT_ACCURACY, abs=1e-9)
    assert first.metrics["recall_positive"] == pytest.approx(12 / 14, abs=1e-9)
    assert first.metrics["recall_negative"] == pytest.approx(12 / 14, abs=1e-9)
    assert first.metrics["recall_neutral"] == pytest.approx(11 / 14, abs=1e-9)
    assert first.confusion == {
        "positive": {"positive": 12, "negative": 0, "neutral": 2},
        "negative": {"positive": 1, "negative": 12, "neutral": 1},
        "neutral": {"positive": 2, "negative": 1, "neutral": 11},
    }
    assert sum(p.correct for p in first.predictions) == 35
    assert all(p.predicted in {"positive", "negative", "neutral"} for p in first.predictions)
    assert first.cost_usd == 0.0 and first.tokens_in > 0


def test_shipped_entity_set_gives_stable_numbers(home: Path) -> None:
    first = evaluate(ENTITIES)
    second = evaluate(ENTITIES)
    assert _stable(first) == _stable(second)
    assert (first.task, first.prompt, first.rows, first.errors) == (
        "entities",
        "entities@v1",
        31,
        0,
    )
    assert 0.7 <= first.value <= 1.0  # type: ignore[operator]
    assert first.value == pytest.approx(ENTITY_F1, abs=1e-9)
    assert first.metrics["precision"] == pytest.approx(ENTITY_PRECISION, abs=1e-9)
    assert first.metrics["recall"] == pytest.approx(ENTITY_RECALL, abs=1e-9)
    tp = sum(p.tp or 0 for p in first.predictions)
    fn = sum(p.fn or 0 for p in first.predictions)
    assert (tp, tp + fn) == (67, 76)
    assert set(first.per_label) == {
        "person",
        "organization",
        "place",
        "date",
        "amount",
        "email",
        "url",
    }


def test_tiny_sentiment_set_with_a_constant_model(
    home: Path,
    tmp_path: Path,
    fake_model,  # type: ignore[no-untyped-def]
) -> None:
    # Every answer is "positive", whatever the order the calls run in: 2 of 3 are right.
    fake_model.enqueue(*[{"label": "positive", "score": 0.5}] * 3)
    data = tmp_path / "tiny.csv"
    data.write_text('text,label\nLovely.,positive\n"Dreadful, truly.",negative\nSuperb.,Positive\n')
    result = evaluate(data, model="fake/model")
    assert result.model == "fake/model"
    assert result.value == pytest.approx(2 / 3, abs=1e-12)
    assert result.metrics["precision_positive"] == pytest.approx(2 / 3, abs=1e-12)
    assert result.metrics["recall_positive"] == 1.0
    assert result.metrics["recall_negative"] == 0.0
    assert result.metrics["precision_negative"] is None  # never predicted
    assert result.confusion["negative"] == {"positive": 1, "negative": 0, "neutral": 0}
    assert result.cost_usd is not None and result.cost_usd > 0  # priced fake model
    assert len(fake_model.calls_for("sentiment")) == 3
    rows = default_ledger().query("SELECT metric FROM evals WHERE eval_id = ?", (result.eval_id,))
    assert "precision_negative" not in {r["metric"] for r in rows}  # None is not recorded


def test_tiny_entity_set_with_a_constant_model(
    home: Path,
    tmp_path: Path,
    fake_model,  # type: ignore[no-untyped-def]
) -> None:
    answer = {"entities": [{"text": " The ACME. ", "type": "organization", "count": 1}]}
    fake_model.enqueue(*[answer] * 3)
    data = tmp_path / "tiny.csv"
    data.write_text(
        "text,expected_entities\n"
        "Acme hired Bob.,Acme|organization;Bob|person\n"
        "Nothing here.,\n"
        "ACME again.,acme|Organization\n"
    )
    result = evaluate(data, model="fake/model")
    # tp 2 (rows 1 and 3), fp 1 (row 2), fn 1 (Bob): P = R = F1 = 2/3.
    assert result.metrics["precision"] == pytest.approx(2 / 3, abs=1e-12)
    assert result.metrics["recall"] == pytest.approx(2 / 3, abs=1e-12)
    assert result.value == pytest.approx(2 / 3, abs=1e-12)
    assert result.metrics["f1_person"] == 0.0
    assert result.metrics["f1_organization"] == pytest.approx(0.8, abs=1e-12)
    assert [p.correct for p in result.predictions] == [False, False, True]


def test_tiny_entity_set_with_the_embedded_model(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "contacts.csv"
    data.write_text(
        "text,expected_entities\n"
        "Write to help@example.com today.,help@example.com|email\n"
        "Docs: https://example.org/guide.,https://example.org/guide|url\n"
    )
    result = evaluate(data)
    assert result.metrics == {
        "f1": 1.0,
        "precision": 1.0,
        "recall": 1.0,
        "f1_email": 1.0,
        "f1_url": 1.0,
    }


@pytest.mark.parametrize(
    ("header", "task"),
    [
        (["text", "label"], "sentiment"),
        ([" Text ", "LABEL", "id"], "sentiment"),
        (["text", "expected_entities"], "entities"),
    ],
)
def test_detect_task(header: list[str], task: str) -> None:
    assert detect_task(header) == task


@pytest.mark.parametrize(
    "header", [["text"], ["body", "label"], ["text", "label", "expected_entities"], []]
)
def test_detect_task_refuses_unknown_layouts(header: list[str]) -> None:
    with pytest.raises(EvaluationError, match="cannot tell the task"):
        detect_task(header)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,label\nfine,happy\n", "row 1: label 'happy'"),
        ("text,label\n,positive\n", "row 1: empty text"),
        ("text,label\n", "no data rows"),
        ("text,expected_entities\nx,Bob|human\n", "unknown entity type 'human'"),
        ("text,expected_entities\nx,ok\ny,Bob\n", "row 1: 'ok' is not a 'text|type' pair"),
    ],
)
def test_bad_datasets_name_the_row(tmp_path: Path, content: str, message: str) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(content)
    with pytest.raises(EvaluationError, match=message.replace("|", r"\|")):
        load_dataset(data)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="no such file"):
        load_dataset(tmp_path / "nope.csv")


def test_shipped_sets_are_balanced() -> None:
    task, rows = load_dataset(SENTIMENT)
    assert task == "sentiment" and len(rows) == 42
    labels = [label for _, label in rows]
    assert {label: labels.count(label) for label in set(labels)} == {
        "positive": 14,
        "negative": 14,
        "neutral": 14,
    }
    task, rows = load_dataset(ENTITIES)
    assert task == "entities" and len(rows) == 31
    types = {kind for _, pairs in rows for _, kind in pairs}
    assert types == {"person", "organization", "place", "date", "amount", "email", "url"}
    assert any(not pairs for _, pairs in rows)  # a row with no entities at all


def test_a_registered_task_kind_is_detected_prompted_and_scored(
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_model,  # type: ignore[no-untyped-def]
) -> None:
    """Task kinds are a registry: a new kind needs no change to the evaluation package."""

    def score(row: EvalRow, output: Any) -> None:
        row.predicted = str(output.summary)
        row.correct = str(row.expected) in row.predicted

    def metrics(rows: list[EvalRow]) -> Any:
        return {"hit_rate": sum(r.correct for r in rows) / len(rows)}, {}, {}

    monkeypatch.setattr(csv_kinds, "TASK_KINDS", dict(csv_kinds.TASK_KINDS))
    register_task_kind(
        TaskKind(
            name="gist",
            columns=("text", "must_mention"),
            field="summary",
            primary="hit_rate",
            parse_expected=lambda cell, where: cell.strip(),
            score=score,
            metrics=metrics,
            prompt="summarization",
        )
    )
    fake_model.enqueue(*[{"summary": "The ferry runs daily.", "key_points": []}] * 2)
    data = tmp_path / "gist.csv"
    data.write_text("text,must_mention\nThe ferry runs daily.,ferry\nRain all week.,rain\n")
    assert detect_task(["text", "must_mention"]) == "gist"
    result = evaluate(data, model="fake/model", record=False)
    assert (result.task, result.metric, result.value) == ("gist", "hit_rate", 0.5)
    assert result.prompt == "summarization@v1"
    assert len(fake_model.calls_for("summarization")) == 2


SUMMARY_CSV = (
    "text,gist\n"
    '"The ferry to Oslo leaves daily at noon. Tickets cost 20 euros.",'
    "The ferry to Oslo leaves daily at noon.\n"
    "Rain is expected all week in Bergen.,Rain is expected all week in Bergen.\n"
)


@pytest.mark.parametrize(
    ("answer", "rouge_l", "clean", "within_length"),
    [
        ("The ferry to Oslo leaves daily at noon.", 0.5, 1.0, 1.0),  # right for one row
        ("Main Menu Home Introduction Documentation Download", 0.0, 0.0, 1.0),
        ("<em>Ferry</em> news.", pytest.approx(1 / 12), 0.0, 1.0),  # "ferry": 1/6 on row 1
        ("", 0.0, 0.0, 0.0),
        ("Rain. " * 100, pytest.approx(0.0093, abs=1e-4), 1.0, 0.0),  # 100 sentences
    ],
)
def test_summary_csv_kind_scores_a_constant_answer_low(
    home: Path,
    tmp_path: Path,
    fake_model,  # type: ignore[no-untyped-def]
    answer: str,
    rouge_l: float,
    clean: float,
    within_length: float,
) -> None:
    fake_model.enqueue(*[{"summary": answer, "key_points": []}] * 2)
    data = tmp_path / "gists.csv"
    data.write_text(SUMMARY_CSV)
    result = evaluate(data, model="fake/model", record=False)
    assert (result.task, result.prompt, result.metric) == ("summary", "summarization@v1", "rouge_l")
    assert result.value == rouge_l
    assert result.metrics["clean"] == clean
    assert result.metrics["within_length"] == within_length
