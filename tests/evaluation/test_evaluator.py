"""The one evaluator: kinds told apart, prompts resolved, failures counted, one recording."""

from __future__ import annotations

from pathlib import Path

import pytest

from eightflow.errors import PromptError
from eightflow.evaluation import EvaluationError, evaluate, kind_for
from eightflow.evaluation.csv_kinds import TASK_KINDS
from eightflow.evaluation.evaluator import resolve_prompts
from eightflow.evaluation.real_set import RealSetKind
from eightflow.store.ledger import default_ledger

REPO = Path(__file__).resolve().parents[2]
SENTIMENT = REPO / "examples" / "eval" / "sentiment.csv"
ENTITIES = REPO / "examples" / "eval" / "entities.csv"
REAL = REPO / "examples" / "eval" / "real"
# Measured with the embedded model (deterministic), see test_csv_kinds.py.
SENTIMENT_ACCURACY = 35 / 42


@pytest.mark.parametrize(
    ("dataset", "name", "roles"),
    [
        (SENTIMENT, "sentiment", {"sentiment": ("sentiment", "label")}),
        (ENTITIES, "entities", {"entities": ("entities", "entities")}),
        (
            REAL,
            "real_documents",
            {
                "sentiment": ("sentiment", "label"),
                "entities": ("entities", "entities"),
                "summary": ("summarization", "summary"),
            },
        ),
        (REAL / "manifest.csv", "real_documents", None),
    ],
)
def test_kind_for_tells_every_kind_apart(
    dataset: Path, name: str, roles: dict[str, tuple[str, str]] | None
) -> None:
    kind = kind_for(dataset)
    assert kind.name == name
    if roles is not None:
        assert kind.roles() == roles


@pytest.mark.parametrize(
    ("kind", "ref", "expected"),
    [
        (TASK_KINDS["sentiment"], None, {"sentiment": "sentiment@v1"}),
        (TASK_KINDS["sentiment"], "v1", {"sentiment": "sentiment@v1"}),
        (
            RealSetKind(),
            "entities@v1",
            {"sentiment": "sentiment@v1", "entities": "entities@v1", "summary": "summarization@v1"},
        ),
    ],
)
def test_resolve_prompts(kind, ref: str | None, expected: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    from eightflow.gateway import ModelGateway

    prompts = resolve_prompts(ModelGateway(), kind, ref)
    assert {role: p.ref for role, p in prompts.items()} == expected


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("2", "ambiguous: a real_documents set calls sentiment, entities, summarization"),
        ("triage@v1", "none of the prompts a real_documents set calls"),
    ],
)
def test_a_real_set_needs_a_named_prompt(ref: str, message: str) -> None:
    from eightflow.gateway import ModelGateway

    with pytest.raises(EvaluationError, match=message):
        resolve_prompts(ModelGateway(), RealSetKind(), ref)


def test_every_kind_is_recorded_the_same_way(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "a.txt").write_text("The ferry to Oslo leaves at noon on 3 May 2024.\n")
    (folder / "manifest.csv").write_text(
        "file,source,kind,sentiment,entities,gist,key_terms\n"
        "a.txt,/usr/share/doc/a,technical,neutral,Oslo|place,The ferry leaves at noon.,ferry\n"
    )
    ledger = default_ledger()
    for dataset in (SENTIMENT, folder):
        result = evaluate(dataset, workflow="document_analysis")
        rows = ledger.query("SELECT * FROM evals WHERE eval_id = ?", (result.eval_id,))
        recorded = {r["metric"]: (r["task"], r["prompt"], r["value"]) for r in rows}
        assert recorded == {
            m: (result.task_of(m), result.prompt_of(m), v)
            for m, v in result.metrics.items()
            if v is not None
        }
    assert result.task_of("summary_gist_rouge_l") == "summarization"
    assert result.prompt_of("entity_prose_f1") == "entities@v1"


def test_scores_land_in_the_evals_table(home: Path) -> None:
    result = evaluate(SENTIMENT, workflow="document_analysis")
    rows = default_ledger().query(
        "SELECT * FROM evals WHERE eval_id = ? ORDER BY metric", (result.eval_id,)
    )
    assert {r["metric"] for r in rows} == {k for k, v in result.metrics.items() if v is not None}
    assert len(rows) == 9  # accuracy, majority baseline, macro recall, P/R of three labels
    accuracy = next(r for r in rows if r["metric"] == "accuracy")
    assert accuracy["value"] == pytest.approx(SENTIMENT_ACCURACY, abs=1e-9)
    assert {
        (r["workflow"], r["dataset"], r["task"], r["prompt"], r["model"], r["rows"]) for r in rows
    } == {("document_analysis", "sentiment.csv", "sentiment", "sentiment@v1", "local/embedded", 42)}
    assert all(r["created"] for r in rows)


def test_record_false_writes_nothing(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "one.csv"
    data.write_text('text,label\n"I love this wonderful, excellent product!",positive\n')
    result = evaluate(data, record=False)
    assert result.value == 1.0
    assert default_ledger().query("SELECT * FROM evals") == []


def test_failed_calls_count_as_wrong_rows(
    home: Path,
    tmp_path: Path,
    fake_model,  # type: ignore[no-untyped-def]
) -> None:
    fake_model.enqueue(
        {"label": "negative", "score": -0.5}, fake_model.fault("BadRequestError", "no")
    )
    data = tmp_path / "two.csv"
    data.write_text("text,label\nBad.,negative\nWorse.,negative\n")
    result = evaluate(data, model="fake/model")
    assert result.errors == 1
    assert result.value == 0.5
    assert result.confusion["negative"] == {
        "positive": 0,
        "negative": 1,
        "neutral": 0,
        "error": 1,
    }


def test_every_call_failing_is_an_error(
    home: Path,
    tmp_path: Path,
    fake_model,  # type: ignore[no-untyped-def]
) -> None:
    fake_model.enqueue(fake_model.fault("AuthenticationError", "bad key"))
    data = tmp_path / "one.csv"
    data.write_text("text,label\nFine.,neutral\n")
    with pytest.raises(EvaluationError, match="every row"):
        evaluate(data, model="fake/model")


def test_prompt_version_pins_the_prompt(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "one.csv"
    data.write_text("text,label\nThe meeting is at noon.,neutral\n")
    assert evaluate(data, prompt_ref="1", record=False).prompt == "sentiment@v1"
    assert evaluate(data, prompt_ref="v1", record=False).prompt == "sentiment@v1"
    with pytest.raises(PromptError, match="no version"):
        evaluate(data, prompt_ref="9", record=False)
    with pytest.raises(EvaluationError, match="cannot be scored as sentiment"):
        evaluate(data, prompt_ref="entities@v1", record=False)
