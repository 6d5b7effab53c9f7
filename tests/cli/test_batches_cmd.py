"""``eightflow batches`` and the Batch API part of ``eightflow report``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eightflow.cli.main import app
from eightflow.store.ledger import default_ledger
from eightflow.store.provider_batches import (
    SubmittedBatch,
    record_collected,
    record_submitted,
    update_state,
)


@pytest.fixture
def runner(home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return CliRunner()


def submit_one() -> None:
    batch = SubmittedBatch(
        batch_id="batch_1", provider="openai", model="openai/gpt-4o-mini",
        input_file_id="file-1", wave=1, part=1, run_key=None, workflow="document_analysis",
        owners={"ef-a": [("a.txt", "summarization")], "ef-b": [("b.txt", "summarization")]},
    )  # fmt: skip
    record_submitted(default_ledger(), batch, "submitted")


def test_batches_lists_open_provider_batches(runner: CliRunner, home: Path) -> None:
    submit_one()
    update_state(default_ledger(), "batch_1", "in_progress", (2, 1, 0))
    result = runner.invoke(app, ["batches", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert (row["batch_id"], row["state"], row["total"], row["completed"]) == (
        "batch_1", "in_progress", 2, 1,
    )  # fmt: skip
    update_state(default_ledger(), "batch_1", "expired")
    assert json.loads(runner.invoke(app, ["batches", "--json"]).stdout) == []


def test_report_shows_what_batch_lines_would_have_cost_online(
    runner: CliRunner, tmp_path: Path
) -> None:
    submit_one()
    line = {"status": "completed", "tokens_in": 100, "tokens_out": 10}
    record_collected(
        default_ledger(),
        "batch_1",
        {
            "ef-a": {**line, "cost_usd": 0.25, "online_cost_usd": 0.5},
            "ef-b": {**line, "cost_usd": 0.25, "online_cost_usd": 0.5},
        },
    )
    result = runner.invoke(app, ["report", "--format", "json", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)["batch_api"]
    assert (info["lines"], info["cost_usd"], info["online_cost_usd"]) == (2, 0.5, 1.0)
    table = runner.invoke(app, ["report", "--out", str(tmp_path / "r")])
    assert "cost $0.500000 at the batch rate; the same calls online: $1.000000" in table.output
