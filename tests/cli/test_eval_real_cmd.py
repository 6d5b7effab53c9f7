"""``eightflow eval WORKFLOW DIR`` on a real-document set, through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eightflow.cli.main import app
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


@pytest.mark.e2e
def test_eval_prints_the_targets_of_the_shipped_set(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", "document_analysis", REAL])
    assert result.exit_code == 0, result.output
    for metric in (
        "sentiment_accuracy",
        "neutral_recall_technical_legal",
        "entity_precision",
        "entity_recall",
        "summary_key_terms",
    ):
        assert metric in result.stdout
    assert "66 documents" in result.stdout
    assert "targets met: 5 of 5" in result.stdout
    assert default_ledger().query("SELECT * FROM evals WHERE dataset = 'real'")


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
