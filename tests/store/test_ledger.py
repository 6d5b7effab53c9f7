"""The run ledger: written by single and batch runs with Prefect ids; migrates forward."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from eightflow.store.ledger import MIGRATIONS, SCHEMA_VERSION, Ledger, default_ledger
from flows.batch_documents import BatchParams, batch_documents
from flows.document_analysis import DocumentAnalysisWorkflow

ROOT = Path(__file__).resolve().parents[2]


def test_migrates_forward_from_v1_without_losing_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO runs (run_id, workflow, version, status, started, cost_usd) "
        "VALUES ('old-run', 'document_analysis', 'v0', 'completed', '2026-01-01T00:00:00', 0.5)"
    )
    db.execute(
        "INSERT INTO steps (run_id, name, status, attempts, duration_ms) "
        "VALUES ('old-run', 'summarization', 'completed', 2, 12.5)"
    )
    db.execute(
        "INSERT INTO calls (run_id, step, seq, model, tokens_in, tokens_out, cost_usd) "
        "VALUES ('old-run', 'summarization', 0, 'openai/gpt-4o-mini', 10, 20, 0.5)"
    )
    db.commit()
    db.close()

    ledger = Ledger(path)

    version = ledger.query("PRAGMA user_version")[0]["user_version"]
    assert version == SCHEMA_VERSION > 1
    run = ledger.run("old-run")
    assert run is not None and run["cost_usd"] == 0.5 and run["batch_id"] is None
    assert ledger.steps("old-run")[0]["attempts"] == 2
    assert ledger.calls("old-run")[0]["tokens_cached"] is None
    assert ledger.query("SELECT COUNT(*) AS n FROM planning")[0]["n"] == 0
    ledger.close()
    # Opening again is a no-op: migrations are applied once.
    again = Ledger(path)
    assert again.query("SELECT COUNT(*) AS n FROM runs")[0]["n"] == 1
    again.close()


async def test_single_run_is_recorded_with_prefect_ids(home: Path) -> None:
    text = (ROOT / "examples" / "sample.md").read_text()
    result = await DocumentAnalysisWorkflow(document=text).execute()
    ledger = default_ledger()
    run = ledger.run(result.run_id)
    assert run is not None
    assert run["flow_run_id"] == result.flow_run_id and run["flow_run_id"]
    assert run["version"] == result.version and run["status"] == "completed"
    steps = {s["name"]: s for s in ledger.steps(result.run_id)}
    assert set(steps) == {
        "summarization",
        "topic_extraction",
        "sentiment",
        "entities",
        "compilation",
    }
    assert all(s["task_run_id"] for s in steps.values())
    calls = ledger.calls(result.run_id)
    assert len(calls) == 4
    assert {c["prompt_id"] for c in calls} == {
        "summarization",
        "topic_extraction",
        "sentiment",
        "entities",
    }
    assert all(c["cost_usd"] == 0.0 and c["tokens_in"] > 0 for c in calls)
    assert steps["summarization"]["prompt"] == "summarization@v1"


async def test_batch_documents_are_recorded_under_the_batch(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("grant-award-notice.txt", "kestrel-remote-work-faq.md"):
        shutil.copy(ROOT / "examples" / "documents" / name, folder / name)
    params = BatchParams(folder=str(folder), out=str(tmp_path / "out"), concurrency=2)
    state = await batch_documents(**params.flow_parameters(), return_state=True)
    assert state.is_completed()
    rows = default_ledger().query(
        "SELECT document_id, batch_id, status, document_sha256 FROM runs ORDER BY document_id"
    )
    assert [r["document_id"] for r in rows] == [
        "grant-award-notice.txt",
        "kestrel-remote-work-faq.md",
    ]
    assert {r["batch_id"] for r in rows} == {str(state.state_details.flow_run_id)}
    assert all(r["status"] == "completed" and len(r["document_sha256"]) == 64 for r in rows)


@pytest.mark.parametrize("prefix_len", [6, 16])
async def test_runs_are_found_by_id_prefix(home: Path, prefix_len: int) -> None:
    result = await DocumentAnalysisWorkflow(document="Short text. Nothing else.").execute(
        raise_on_failure=False
    )
    found = default_ledger().run(result.run_id[:prefix_len])
    assert found is not None and found["run_id"] == result.run_id
