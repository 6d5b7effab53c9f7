"""Publishing batch results: atomic files, the four outputs, merged shards."""

from __future__ import annotations

import csv
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from eightflow_app.tasks.publishing import ResultsWriter
from eightflow_app.tasks.results_table import ResultsTable

from eightflow.batch import BatchSummary, DocumentOutcome
from eightflow.runtime.records import ModelCall, StepRecord

OUTPUT_FILES = {"results.csv", "results.parquet", "trace.jsonl", "report.md"}


# --------------------------------------------------------------------------- ResultsWriter

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _step(name: str, cost: float, *, model: bool = True, attempts: int = 1) -> StepRecord:
    record = StepRecord(
        name=name, status="completed", attempts=attempts, started=NOW, finished=NOW,
        duration_ms=12.5,
    )  # fmt: skip
    if model:
        record.add_call(
            ModelCall(
                model="openai/gpt-4o-mini",
                provider="openai",
                prompt_id=name,
                prompt_version=1,
                prompt_hash="abc123",
                tokens_in=100,
                tokens_out=10,
                cost_usd=cost,
                started=NOW,
            )
        )
    return record


def _completed(doc_id: str) -> DocumentOutcome:
    steps = [_step("summarization", 0.001, attempts=2), _step("sentiment", 0.002)]
    steps.append(_step("compilation", 0.0, model=False))
    return DocumentOutcome(
        id=doc_id, path=f"/data/{doc_id}", status="completed",
        row={
            "summary": f"Summary of {doc_id}.", "topics": "alpha; beta",
            "sentiment_label": "positive", "sentiment_score": 0.5, "entities": "Lisbon (place)",
        },
        steps=steps, tokens_in=200, tokens_out=20, cost_usd=0.003, duration_ms=40.0,
        attempts=4, model_calls=3,
    )  # fmt: skip


def _failed(doc_id: str) -> DocumentOutcome:
    return DocumentOutcome(
        id=doc_id, path=f"/data/{doc_id}", status="failed", error="empty file (0 bytes)",
        error_type="DocumentError", input_error=True,
    )  # fmt: skip


def test_results_writer_writes_the_four_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    writer = ResultsWriter(out)
    summary = BatchSummary(workflow="document_analysis", version="v123")
    outcomes = [_completed("b.txt"), _failed("c.txt"), _completed("a.txt")]
    for outcome in outcomes:
        summary.add(outcome)
        writer.write(outcome)
    writer.close(summary)

    assert set(os.listdir(out)) == OUTPUT_FILES
    with (out / "results.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["a.txt", "b.txt", "c.txt"]
    assert list(rows[0])[:4] == ["id", "status", "error", "summary"]
    assert rows[0]["summary"] == "Summary of a.txt." and rows[0]["cost_usd"] == "0.003"
    assert (rows[2]["status"], rows[2]["error"], rows[2]["summary"]) == (
        "failed", "empty file (0 bytes)", "",
    )  # fmt: skip

    import pandas as pd

    frame = pd.read_parquet(out / "results.parquet")
    assert list(frame["id"]) == ["a.txt", "b.txt", "c.txt"]
    assert list(frame.columns) == list(rows[0])
    assert writer.rows is not None and len(writer.rows) == 3

    trace = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    assert [(t["document"], t["step"]) for t in trace] == [
        (doc, step) for doc in ("b.txt", "a.txt")
        for step in ("summarization", "sentiment", "compilation")
    ]  # fmt: skip
    first = trace[0]
    assert (first["attempts"], first["model"], first["prompt"], first["cost_usd"]) == (
        2, "openai/gpt-4o-mini", "summarization@v1", 0.001,
    )  # fmt: skip
    assert first["start"] == "2025-03-01T12:00:00.000+00:00" and first["prompt_hash"] == "abc123"

    report = (out / "report.md").read_text()
    assert "- documents: 3 (completed 2, failed 1, unprocessed 0" in report
    assert "| summarization | 2 | 12 | 12 | $0.002000 |" in report
    assert "| 1 | DocumentError: empty file (0 bytes) |" in report
    assert "| openai/gpt-4o-mini | $0.006000 |" in report


def test_results_writer_with_no_documents(tmp_path: Path) -> None:
    writer = ResultsWriter(tmp_path)
    writer.close(BatchSummary(workflow="w", version="v"))
    assert set(os.listdir(tmp_path)) == OUTPUT_FILES
    header = (tmp_path / "results.csv").read_text().splitlines()[0]
    assert header.startswith("id,status,error,summary,topics,")
    assert (tmp_path / "trace.jsonl").read_text() == ""


def test_merge_shards_reads_parquet_or_csv_shards(tmp_path: Path, home: Path) -> None:
    from eightflow_app.tasks.publishing import merge_shards

    root = tmp_path / "out-root"
    shards = [root / "s0", root / "s1", root / "s2"]
    for index, shard in enumerate(shards[:2]):
        writer = ResultsWriter(shard)
        summary = BatchSummary(workflow="document_analysis", version="v1")
        for outcome in (_completed(f"d{index}.txt"), _failed(f"e{index}.txt")):
            summary.add(outcome)
            writer.write(outcome)
        writer.close(summary)
    (shards[1] / "results.parquet").unlink()  # a shard with only its CSV
    merged = merge_shards(shards, root / "merged")  # s2 never ran: no files

    assert merged["documents"] == 4 and merged["by_status"] == {"completed": 2, "failed": 2}
    back = {r["id"]: r for r in ResultsTable.read(root / "merged" / "results.parquet").rows}
    assert set(back) == {"d0.txt", "d1.txt", "e0.txt", "e1.txt"}
    # The CSV-only shard's numbers and booleans come back typed, empty cells as None.
    assert back["d1.txt"]["tokens_in"] == back["d0.txt"]["tokens_in"]
    assert back["d1.txt"]["cache_hit"] is False and back["e1.txt"]["summary"] is None
    report = (root / "merged" / "report.md").read_text()
    assert "4 documents from 3 shards" in report and "empty file (0 bytes)" in report
