"""A decision rewrites the document's row in results.csv and results.parquet."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from eightflow_app.tasks.results_table import ResultsTable

from eightflow.review.decide import apply_to_results


def _results(out: Path) -> None:
    rows = [
        {"id": "a.txt", "status": "needs_review", "summary": "first"},
        {"id": "b.txt", "status": "completed", "summary": "second"},
    ]
    out.mkdir()
    with (out / "results.csv").open("w", newline="", encoding="utf-8") as fh:
        ResultsTable(rows).write_csv(fh)
    with (out / "results.parquet").open("wb") as fh:
        ResultsTable(rows).write_parquet(fh)


@pytest.mark.parametrize(
    ("final", "in_csv"),
    [
        ("a plain summary", "a plain summary"),
        ('=HYPERLINK("http://x","see")', '\'=HYPERLINK("http://x","see")'),
        ("+1 and -2", "'+1 and -2"),
    ],
)
def test_a_decided_value_is_escaped_in_the_csv_and_raw_in_parquet(
    tmp_path: Path, final: str, in_csv: str
) -> None:
    out = tmp_path / "out"
    _results(out)
    row = {
        "out_dir": str(out), "document_id": "a.txt", "decision": "edit", "output": "summary",
        "final": final, "status": "edited", "review_id": "r1", "reviewer": "ana",
    }  # fmt: skip
    written = apply_to_results(row)
    assert {p.name for p in written} == {"results.csv", "results.parquet"}
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        by_id = {r["id"]: r for r in csv.DictReader(fh)}
    assert (by_id["a.txt"]["summary"], by_id["a.txt"]["status"]) == (in_csv, "completed")
    assert by_id["a.txt"]["review_status"] == "edited" and by_id["b.txt"]["summary"] == "second"
    back = {r["id"]: r for r in ResultsTable.read(out / "results.parquet").rows}
    assert back["a.txt"]["summary"] == final and back["b.txt"]["status"] == "completed"


@pytest.mark.parametrize("api", ["http://127.0.0.1:9/api", None])
def test_each_decision_emits_an_event(monkeypatch: pytest.MonkeyPatch, api: str | None) -> None:
    import prefect.events
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from eightflow.review.decide import DECIDED_EVENT, emit_decided

    sent: list[dict[str, object]] = []
    monkeypatch.setattr(prefect.events, "emit_event", lambda **kw: sent.append(kw) or kw)
    row = {"review_id": "r1", "status": "edited", "decision": "edit", "document_id": "a.txt",
           "step": "sentiment", "workflow": "document_analysis", "decided_via": "ui",
           "reviewer": "ana", "note": "private words", "batch_id": "b-1",
           "flow_run_id": None}  # fmt: skip
    with temporary_settings(updates={PREFECT_API_URL: api}):
        emitted = emit_decided(row)
    if api is None:  # no server to tell: nothing queued, no error at exit
        assert emitted is None and sent == []
        return
    [event] = sent
    assert event["event"] == DECIDED_EVENT
    assert event["resource"]["prefect.resource.id"] == "eightflow.review.r1"  # type: ignore[index]
    assert event["payload"]["status"] == "edited"  # type: ignore[index]
    assert "note" not in event["payload"]  # type: ignore[operator]
    assert event["related"] == [
        {"prefect.resource.id": "prefect.flow-run.b-1", "prefect.resource.role": "batch"}
    ]
