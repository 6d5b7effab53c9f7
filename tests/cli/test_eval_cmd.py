"""``eightflow eval`` on a real-document set and on a CSV, through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eightflow.cli.main import app
from eightflow.evaluation.real_set import load_real_set
from eightflow.store.ledger import default_ledger

REPO = Path(__file__).resolve().parents[2]
REAL = str(REPO / "examples" / "eval" / "real")
MANIFEST = "file,source,kind,sentiment,entities,gist,key_terms\n"


@pytest.fixture
def runner(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_eval_prints_dev_and_test_of_the_shipped_set_side_by_side(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", "document_analysis", REAL])
    assert result.exit_code == 0, result.output
    dev, test = (len(load_real_set(REAL, split)) for split in ("dev", "test"))
    assert f"dev {dev} documents, test {test} documents" in result.stdout
    assert "Metrics per split" in result.stdout and "met (test)" in result.stdout
    for metric in (
        "sentiment_accuracy",
        "sentiment_majority_baseline",
        "neutral_recall_technical_legal",
        "entity_precision",
        "entity_recall",
        "entity_prose_f1",
        "summary_key_terms",
        "summary_gist_rouge_l",
        "summary_clean",
        "summary_within_length",
        "sentiment_recall_positive",
        "sentiment_recall_negative",
    ):
        assert metric in result.stdout
    assert "Sentiment confusion on dev" in result.stdout
    assert "Sentiment confusion on test" in result.stdout
    assert "Reliability of sentiment confidence" in result.stdout
    assert "Reliability of entities confidence" in result.stdout
    assert "targets met on test:" in result.stdout
    recorded = default_ledger().query("SELECT DISTINCT dataset FROM evals")
    assert {r["dataset"] for r in recorded} == {"real:dev", "real:test"}


def test_eval_one_split_prints_its_rows(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", "document_analysis", REAL, "--split", "test"])
    assert result.exit_code == 0, result.output
    assert f"real:test, {len(load_real_set(REAL, 'test'))} documents" in result.stdout
    assert "majority baseline" in result.stdout and "Per entity type" in result.stdout
    assert "Reliability of sentiment confidence" in result.stdout
    recorded = default_ledger().query("SELECT DISTINCT dataset FROM evals")
    assert {r["dataset"] for r in recorded} == {"real:test"}


def _split_set(folder: Path) -> Path:
    (folder / "docs").mkdir(parents=True)
    for name in ("a.md", "b.md"):
        (folder / "docs" / name).write_text(
            f"# Note {name}\n\nThe tool reads PDF files.\n\n-- Ada Lovelace <ada@example.org>\n"
        )
    ada = "Ada Lovelace|person;ada@example.org|email"
    (folder / "manifest.csv").write_text(
        MANIFEST.replace("key_terms", "key_terms,split")
        + f"a.md,x,technical,neutral,{ada},The tool reads PDFs.,PDF,dev\n"
        + f"b.md,x,technical,neutral,{ada},The tool reads PDFs.,PDF,test\n"
    )
    return folder


def test_eval_json_holds_both_splits(runner: CliRunner, tmp_path: Path) -> None:
    folder = _split_set(tmp_path / "set")
    result = runner.invoke(app, ["eval", "document_analysis", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["splits"]
    assert list(data) == ["dev", "test"]
    assert [data[s]["dataset"] for s in data] == ["set:dev", "set:test"]
    assert [s["file"] for s in data["test"]["summaries"]] == ["b.md"]
    assert data["dev"]["metrics"]["sentiment_majority_baseline"] == 1.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--split", "train"], "split 'train' is not one of"),
        (["--split", "dev", "--compare", "1", "1"], "--split does not combine with --compare"),
    ],
)
def test_eval_split_problems_are_clear(
    runner: CliRunner, tmp_path: Path, extra: list[str], message: str
) -> None:
    folder = _split_set(tmp_path / "set")
    result = runner.invoke(app, ["eval", "document_analysis", str(folder), *extra])
    assert result.exit_code != 0
    assert message in result.output


def test_eval_split_of_a_csv_is_refused(runner: CliRunner) -> None:
    sentiment = str(REPO / "examples" / "eval" / "sentiment.csv")
    result = runner.invoke(app, ["eval", "document_analysis", sentiment, "--split", "dev"])
    assert result.exit_code != 0
    assert "only a real-document set has dev/test splits" in result.output


def test_eval_gates_judge_the_test_split(runner: CliRunner, tmp_path: Path) -> None:
    folder = _split_set(tmp_path / "set")
    result = runner.invoke(app, ["eval", "document_analysis", str(folder), "--min-score", "0"])
    assert result.exit_code == 0, result.output
    eval_id = result.stdout.split("eval id: ")[1].split()[0]
    query = "SELECT DISTINCT dataset FROM evals WHERE eval_id = ?"
    rows = default_ledger().query(query, (eval_id,))
    assert [r["dataset"] for r in rows] == ["set:test"]


def test_eval_json_and_a_missed_target(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "note.md").write_text(
        "# Release note\n\nThe tool now reads PDF files.\n\n-- Ada Lovelace <ada@example.org>\n"
    )
    (folder / "manifest.csv").write_text(
        MANIFEST + 'note.md,/usr/share/doc/x/README,technical,neutral,"Ada Lovelace|person;'
        'ada@example.org|email",The tool reads PDFs.,PDF files;spreadsheets\n'
    )
    result = runner.invoke(app, ["eval", "document_analysis", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["rows"] == 1 and data["metrics"]["entity_recall"] == 1.0
    assert data["met"]["summary_key_terms"] is False  # "spreadsheets" is in no summary
    assert data["summaries"][0]["missing"] == ["spreadsheets"]


def test_eval_needs_a_workflow_with_all_three_prompts(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", "document_triage", REAL])
    assert result.exit_code != 0
    assert "does not use the prompts" in result.output


def test_eval_prints_the_majority_baseline_of_a_csv(runner: CliRunner) -> None:
    sentiment = str(REPO / "examples" / "eval" / "sentiment.csv")
    result = runner.invoke(app, ["eval", "document_analysis", sentiment])
    assert result.exit_code == 0, result.output
    assert "accuracy 0.8333, majority baseline 0.3333" in result.stdout
    assert "42 rows" in result.stdout and "Per label" in result.stdout
    assert "no better than" not in result.stdout  # 0.8333 beats 0.3333
