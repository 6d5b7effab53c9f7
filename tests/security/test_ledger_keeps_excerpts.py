"""Attack: the ledger keeps whole documents (up to 5 M characters each), world-readable,
with no retention, although the README promises a sanitized excerpt; and it kept whole
model answers, which quote the document (extractive summaries, entities)."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow
from typer.testing import CliRunner

from eightflow.errors import WorkflowError
from eightflow.replay import replay_run
from eightflow.store.cache import ResponseCache
from eightflow.store.ledger import default_ledger
from eightflow.store.recorded_inputs import EXCERPT_CHARS, answer_excerpt
from eightflow.store.retention import prune_ledger

pytestmark = pytest.mark.prefect

ROOT = Path(__file__).resolve().parents[2]
MARKER = "the-tail-of-the-document-that-must-not-be-stored"


@pytest.fixture
def document(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("EIGHTFLOW_LEDGER_FULL_INPUTS", raising=False)
    path = tmp_path / "long.md"
    body = (ROOT / "examples" / "sample.md").read_text(encoding="utf-8")
    path.write_text(body + "\n\n" + "More words about harbours. " * 200 + MARKER + "\n")
    return path


async def _record(path: Path, cache: bool = True) -> str:
    """A run as ``eightflow run`` makes it: answers go to the response cache too."""
    inputs = DocumentAnalysisWorkflow.inputs_from_path(str(path))
    workflow = DocumentAnalysisWorkflow(cache=ResponseCache.default() if cache else None)
    result = await workflow.execute(**inputs)
    default_ledger().flush()
    return result.run_id


async def test_the_ledger_keeps_an_excerpt_and_a_sha256(document: Path) -> None:
    run_id = await _record(document)
    stored = json.loads(default_ledger().run(run_id)["inputs"])
    record = stored["document"]
    assert len(record["__excerpt__"]) <= 600 and record["path"] == str(document)
    assert len(record["sha256"]) == 64 and record["chars"] > 5000
    raw = Path(default_ledger().path).read_bytes()
    assert MARKER.encode() not in raw


async def test_replay_rereads_the_unchanged_document(document: Path) -> None:
    run_id = await _record(document)
    result, source = await replay_run(run_id)
    assert source.misses == [] and result.model_calls == 0 and result.ok


@pytest.mark.parametrize("change", ["edited", "deleted"])
async def test_replay_says_clearly_when_it_cannot(document: Path, change: str) -> None:
    run_id = await _record(document)
    if change == "edited":
        document.write_text(document.read_text() + "one more line\n")
    else:
        document.unlink()
    with pytest.raises(WorkflowError, match=r"cannot replay run .*EIGHTFLOW_LEDGER_FULL_INPUTS"):
        await replay_run(run_id)


async def test_whole_inputs_only_when_opted_in(
    document: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EIGHTFLOW_LEDGER_FULL_INPUTS", "1")
    run_id = await _record(document)
    assert MARKER in default_ledger().run(run_id)["inputs"]


async def test_the_ledger_file_is_private(document: Path, home: Path) -> None:
    await _record(document)
    mode = stat.S_IMODE(os.stat(default_ledger().path).st_mode)
    assert mode == 0o600


async def test_prune_drops_old_runs(document: Path) -> None:
    run_id = await _record(document)
    ledger = default_ledger()
    assert prune_ledger(ledger, timedelta(days=30))["runs"] == 0
    with ledger._tx() as db:
        db.execute(
            "UPDATE runs SET started = '2000-01-01T00:00:00+00:00' WHERE run_id = ?", (run_id,)
        )
    from eightflow.cli.main import app

    result = CliRunner().invoke(app, ["ledger", "prune", "--older-than", "30d", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output.strip().splitlines()[-1])
    assert counts["runs"] == 1 and counts["steps"] >= 4
    assert ledger.run(run_id) is None and ledger.calls(run_id) == []


async def test_the_ledger_keeps_long_answers_as_an_excerpt_and_a_sha256(document: Path) -> None:
    run_id = await _record(document)
    answers = [call["response"] for call in default_ledger().calls(run_id)]
    records = [answer_excerpt(a) for a in answers]
    assert any(records), "no answer of this run was long enough to be cut: test the cut"
    for answer, record in zip(answers, records, strict=True):
        if record is None:
            assert len(answer) <= EXCERPT_CHARS
        else:
            assert len(record["__excerpt__"]) <= EXCERPT_CHARS + 30
            assert len(record["sha256"]) == 64 and record["chars"] > EXCERPT_CHARS


async def test_whole_answers_only_when_opted_in(
    document: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EIGHTFLOW_LEDGER_FULL_INPUTS", "1")
    run_id = await _record(document)
    answers = [call["response"] for call in default_ledger().calls(run_id)]
    assert not any(answer_excerpt(a) for a in answers)
    assert max(map(len, answers)) > EXCERPT_CHARS


async def test_replay_says_why_when_an_answer_was_cut_and_is_not_cached(
    document: Path,
) -> None:
    run_id = await _record(document, cache=False)
    result, source = await replay_run(run_id)
    assert not result.ok and source.misses
    assert all("EIGHTFLOW_LEDGER_FULL_INPUTS" in miss for miss in source.misses)
