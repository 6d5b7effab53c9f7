"""Reviews in a batch: flagged documents end needs_review, the rest finish, and a decision
from the shell updates results.csv, results.parquet, report.md and the ledger."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents
from typer.testing import CliRunner

from eightflow.cli.main import app
from eightflow.store.ledger import default_ledger

pytestmark = pytest.mark.prefect

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "documents"
DOCS = ["grant-award-notice.txt", "kestrel-remote-work-faq.md", "riverbend-board-minutes.md"]
FLAGGED = "kestrel-remote-work-faq.md"  # the only one below 0.6 (checked below)


def embedded_sentiment(path: Path) -> dict[str, Any]:
    """What the embedded model says of a document (the tests follow it, not a copy)."""
    from eightflow_app.tasks.loading import load_document

    from eightflow.embedded.engine import EmbeddedModel

    return EmbeddedModel().respond("sentiment", load_document(path).text)


def other_label(label: str) -> str:
    return "negative" if label != "negative" else "positive"


SENTIMENTS = {name: embedded_sentiment(EXAMPLES / name) for name in DOCS}
PROPOSED = SENTIMENTS[FLAGGED]["label"]
EDITED = other_label(PROPOSED)


def test_only_the_flagged_document_is_unsure() -> None:
    assert {n: s["confidence"] < 0.6 for n, s in SENTIMENTS.items()} == {
        n: n == FLAGGED for n in DOCS
    }


@pytest.fixture
def runner(home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("USER", "rita")
    return CliRunner()


async def run_batch(tmp_path: Path, review_below: float | None) -> tuple[Path, dict[str, Any]]:
    folder, out = tmp_path / "docs", tmp_path / "out"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(EXAMPLES / name, folder / name)
    params = BatchParams(folder=str(folder), out=str(out), review_below=review_below)
    state = await batch_documents(**params.flow_parameters(), return_state=True)
    brief = await state.result(raise_on_failure=False)
    assert isinstance(brief, dict), state.message
    return out, brief


def rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


async def test_review_is_off_by_default(tmp_path: Path, runner: CliRunner) -> None:
    out, brief = await run_batch(tmp_path, None)
    assert brief["needs_review"] == 0 and brief["completed"] == len(DOCS)
    assert {r["status"] for r in rows(out).values()} == {"completed"}
    assert default_ledger().query("SELECT * FROM reviews") == []


@pytest.mark.parametrize(
    ("args", "status", "label", "review_status"),
    [
        (["--approve"], "completed", PROPOSED, "approved"),
        (["--reject", "--note", "not about feelings"], "rejected", PROPOSED, "rejected"),
        (["--edit", f"label={EDITED}", "--edit", "score=0"], "completed", EDITED, "edited"),
    ],
)
async def test_flagged_document_waits_and_a_decision_updates_everything(
    tmp_path: Path, runner: CliRunner, args: list[str], status: str, label: str, review_status: str
) -> None:
    out, brief = await run_batch(tmp_path, 0.6)
    # The batch finished: one document waits, the others completed, and it is a success.
    assert brief["success"], brief["reasons"]
    assert (brief["completed"], brief["needs_review"]) == (len(DOCS) - 1, 1)
    before = rows(out)
    assert before[FLAGGED]["status"] == "needs_review"
    waiting = default_ledger().query("SELECT status FROM runs WHERE document_id = ?", (FLAGGED,))
    assert [r["status"] for r in waiting] == ["needs_review"]
    assert before[FLAGGED]["sentiment_label"] == PROPOSED
    assert "confidence" in before[FLAGGED]["review_reason"]
    assert {before[d]["status"] for d in DOCS if d != FLAGGED} == {"completed"}
    review_id = before[FLAGGED]["review_id"]
    report = (out / "report.md").read_text()
    assert "## Needs review" in report and f"`{review_id}`" in report

    listed = runner.invoke(app, ["review", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [pending] = json.loads(listed.stdout)
    assert pending["review_id"] == review_id and pending["document_id"] == FLAGGED
    assert pending["step"] == "sentiment" and pending["link"]
    assert pending["proposed"]["label"] == PROPOSED

    decided = runner.invoke(app, ["review", "decide", review_id[:8], *args, "--json"])
    assert decided.exit_code == 0, decided.output
    after = rows(out)
    assert after[FLAGGED]["status"] == status
    assert after[FLAGGED]["sentiment_label"] == label
    assert after[FLAGGED]["review_status"] == review_status
    assert {d: after[d] for d in DOCS if d != FLAGGED} == {
        d: before[d] for d in DOCS if d != FLAGGED
    }
    import pandas as pd

    parquet = pd.read_parquet(out / "results.parquet").set_index("id")
    assert parquet.loc[FLAGGED, "status"] == status
    assert parquet.loc[FLAGGED, "sentiment_label"] == label
    assert f"{review_status} by rita" in (out / "report.md").read_text()
    [run] = default_ledger().query(
        "SELECT status FROM runs WHERE document_id = ? ORDER BY started DESC LIMIT 1", (FLAGGED,)
    )
    assert run["status"] == status
    [row] = default_ledger().query("SELECT * FROM reviews")
    assert (row["status"], row["reviewer"], row["decided_via"]) == (review_status, "rita", "cli")
    assert row["seconds_to_decide"] >= 0
    if review_status == "edited":
        assert json.loads(row["edits"]) == {"label": EDITED, "score": "0"}
        assert json.loads(row["final"])["score"] == 0.0
    if review_status == "rejected":
        assert row["note"] == "not about feelings"
    again = runner.invoke(app, ["review", "decide", review_id, "--approve"])
    assert again.exit_code != 0 and "already" in again.output


@pytest.mark.parametrize(
    ("args", "status", "label", "review_status"),
    [
        ([f"--edit=label={EDITED}"], "completed", EDITED, "edited"),
        (["--reject"], "rejected", PROPOSED, "rejected"),
    ],
)
async def test_a_rerun_keeps_the_decision(
    tmp_path: Path, runner: CliRunner, args: list[str], status: str, label: str, review_status: str
) -> None:
    out, _ = await run_batch(tmp_path, 0.6)
    review_id = rows(out)[FLAGGED]["review_id"]
    assert runner.invoke(app, ["review", "decide", review_id, *args]).exit_code == 0
    shutil.rmtree(tmp_path / "docs")
    out, brief = await run_batch(tmp_path, 0.6)
    again = rows(out)[FLAGGED]
    assert (again["status"], again["sentiment_label"]) == (status, label)
    assert (again["review_id"], again["review_status"]) == (review_id, review_status)
    assert brief["needs_review"] == 0 and brief["success"]
    assert default_ledger().query("SELECT review_id FROM reviews") == [{"review_id": review_id}]


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--edit", "label=ecstatic"], "label"),
        (["--edit", "summary=x"], "not editable"),
        (["--edit", "label"], "FIELD=VALUE"),
        (["--approve", "--reject"], "exactly one"),
    ],
)
async def test_bad_decisions_are_refused(
    tmp_path: Path, runner: CliRunner, args: list[str], phrase: str
) -> None:
    out, _ = await run_batch(tmp_path, 0.6)
    review_id = rows(out)[FLAGGED]["review_id"]
    result = runner.invoke(app, ["review", "decide", review_id, *args])
    assert result.exit_code != 0
    assert phrase in result.output
    assert rows(out)[FLAGGED]["status"] == "needs_review"
