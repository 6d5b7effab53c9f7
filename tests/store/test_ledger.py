"""The run ledger: written by single and batch runs with Prefect ids; migrates forward."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow

from eightflow.runtime.records import StepRecord, TokenUsage, WorkflowResult
from eightflow.store.ledger import MIGRATIONS, SCHEMA_VERSION, Ledger, default_ledger

pytestmark = pytest.mark.prefect

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


def _run(run_id: str, step_input: str) -> WorkflowResult:
    now = datetime.now(UTC)
    step = StepRecord(name="summarization", status="completed", input=step_input)
    return WorkflowResult(
        run_id=run_id,
        workflow="document_analysis",
        version="v1",
        status="completed",
        steps=[step],
        cost_usd=0.0,
        tokens=TokenUsage(),
        model_calls=0,
        started=now,
        finished=now,
        duration_ms=0.0,
    )


def test_a_secret_set_between_runs_is_redacted_in_the_later_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    text = "see Hy7Tr4Kw2Qp9 in the contract"
    ledger.record_run(_run("before", text))
    monkeypatch.setenv("CONTRACT_API_TOKEN", "Hy7Tr4Kw2Qp9")
    ledger.record_run(_run("after", text))
    assert ledger.steps("before")[0]["input_excerpt"] == text
    assert ledger.steps("after")[0]["input_excerpt"] == "see [REDACTED] in the contract"
    ledger.close()


def test_submitting_a_run_does_not_wait_for_a_transaction_in_progress(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    submitted: list[Future[None]] = []
    with ledger._tx():  # what the writer thread holds while it commits
        thread = threading.Thread(target=lambda: submitted.append(ledger.submit_run(_run("r", ""))))
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive() and len(submitted) == 1
        assert not submitted[0].done()  # queued: the writer waits for the transaction
    submitted[0].result(timeout=30)
    assert ledger.run("r") is not None
    ledger.close()
