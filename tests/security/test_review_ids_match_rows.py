"""Attack: a document named like a formula. ``results.csv`` wrote ``-draft.txt`` as
``'-draft.txt``; ``review decide`` compared the raw id, said "results updated" and left the
row ``needs_review`` while ``results.parquet`` changed. One codec now writes and matches ids,
and a decision whose row is missing fails before anything is recorded."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents
from eightflow_app.tasks.results_table import ResultsTable
from typer.testing import CliRunner

from eightflow.errors import WorkflowError
from eightflow.review.decide import decide
from eightflow.review.requests import ReviewRequest
from eightflow.review.store import get_review, save_pending
from eightflow.safety.inert import csv_cell, csv_value
from eightflow.store.ledger import Ledger

pytestmark = pytest.mark.prefect  # runs flows against the session's Prefect API

HOSTILE_IDS = [
    "-draft.txt",
    "=1+1.txt",
    "@x.txt",
    "+a.txt",
    "'quoted.txt",
    "''=twice.txt",
    "\tTab.txt",
    "résumé – 東京.txt",
    "with  spaces .txt",
    "plain.txt",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("document_id", HOSTILE_IDS)
def test_the_id_codec_round_trips_and_stays_inert(document_id: str) -> None:
    cell = csv_cell(document_id)
    assert csv_value(cell) == document_id
    assert not str(cell).startswith(FORMULA_START)


def write_results_tables(out: Path, ids: list[str]) -> None:
    out.mkdir(parents=True)
    table = ResultsTable([{"id": i, "status": "needs_review", "summary": "s"} for i in ids])
    with (out / "results.csv").open("w", newline="", encoding="utf-8") as fh:
        table.write_csv(fh)
    with (out / "results.parquet").open("wb") as fh:
        table.write_parquet(fh)


def save_review(ledger: Ledger, out: Path, document_id: str) -> str:
    request = ReviewRequest(
        run_id="run-1", workflow="document_analysis", document_id=document_id, step="summary",
        rule="summary_check", output="summary", proposed="s", actions=["approve", "reject"],
        batch_id="batch-1", out_dir=str(out),
    )  # fmt: skip
    save_pending(request, ledger)
    return request.review_id


def _statuses(out: Path) -> tuple[dict[str, str], dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        in_csv = {csv_value(r["id"]): r["status"] for r in csv.DictReader(fh)}
    rows = pq.ParquetFile(out / "results.parquet").read().to_pylist()
    return in_csv, {r["id"]: r["status"] for r in rows}


@pytest.mark.parametrize("document_id", HOSTILE_IDS)
def test_a_decision_reaches_the_row_in_both_tables_and_the_ledger(
    tmp_path: Path, document_id: str
) -> None:
    out = tmp_path / "out"
    write_results_tables(out, HOSTILE_IDS)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    review_id = save_review(ledger, out, document_id)
    decided = decide(review_id, "reject", reviewer="rita", ledger=ledger)
    in_csv, in_parquet = _statuses(out)
    assert in_csv == in_parquet
    assert in_csv[document_id] == "rejected"
    assert {s for i, s in in_csv.items() if i != document_id} == {"needs_review"}
    assert get_review(review_id, ledger)["status"] == decided["status"] == "rejected"


def test_a_decision_without_its_row_fails_loudly_and_records_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_results_tables(out, ["other.txt"])
    ledger = Ledger(tmp_path / "ledger.sqlite")
    review_id = save_review(ledger, out, "-draft.txt")
    before = _statuses(out)
    with pytest.raises(WorkflowError, match=r"no row with id '-draft\.txt'"):
        decide(review_id, "reject", reviewer="rita", ledger=ledger)
    assert get_review(review_id, ledger)["status"] == "pending"
    assert _statuses(out) == before


def test_the_cli_exits_non_zero_naming_the_id(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eightflow.cli.main import app
    from eightflow.store.ledger import default_ledger

    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")
    monkeypatch.setenv("COLUMNS", "300")
    out = home.parent / "out"
    write_results_tables(out, ["other.txt"])
    review_id = save_review(default_ledger(), out, "-draft.txt")
    result = CliRunner().invoke(app, ["review", "decide", review_id, "--reject"])
    assert result.exit_code != 0
    assert "-draft.txt" in result.output and "results updated" not in result.output


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "documents"


async def test_a_batch_document_named_like_a_formula_is_decided_everywhere(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finding end to end: a real batch, a flagged ``-draft.md``, ``review decide``."""
    from eightflow.cli.main import app
    from eightflow.store.ledger import default_ledger

    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")
    folder, out = tmp_path / "docs", tmp_path / "out"
    folder.mkdir()
    shutil.copy(EXAMPLES / "kestrel-remote-work-faq.md", folder / "-draft.md")
    params = BatchParams(folder=str(folder), out=str(out), review_below=0.6)
    state = await batch_documents(**params.flow_parameters(), return_state=True)
    assert isinstance(await state.result(raise_on_failure=False), dict), state.message
    assert _statuses(out) == ({"-draft.md": "needs_review"}, {"-draft.md": "needs_review"})
    [pending] = default_ledger().query("SELECT review_id FROM reviews WHERE status = 'pending'")
    result = CliRunner().invoke(app, ["review", "decide", pending["review_id"], "--reject"])
    assert result.exit_code == 0, result.output
    assert _statuses(out) == ({"-draft.md": "rejected"}, {"-draft.md": "rejected"})
    [run] = default_ledger().query(
        "SELECT status FROM runs WHERE document_id = ? ORDER BY started DESC LIMIT 1",
        ("-draft.md",),
    )
    assert run["status"] == "rejected"
