"""Replay: a recorded run re-runs from the ledger with no provider calls."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow

from eightflow.replay import replay_run
from tests.support.fake_model import FakeModel

pytestmark = pytest.mark.prefect

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "examples" / "sample.md").read_text(encoding="utf-8")


MODEL = "fake/model"  # the in-process fake model (tests/support/fake_model.py), priced


@pytest.fixture
def model(fake_model: FakeModel, monkeypatch: pytest.MonkeyPatch, home: Path) -> FakeModel:
    # These runs take raw text (no file to re-read), so they opt in to whole inputs;
    # tests/security/test_ledger_keeps_excerpts.py covers the default.
    monkeypatch.setenv("EIGHTFLOW_LEDGER_FULL_INPUTS", "1")
    return fake_model


async def test_full_replay_is_identical_and_free(model: FakeModel) -> None:
    recorded = await DocumentAnalysisWorkflow(model=MODEL, document=TEXT).execute()
    assert len(model.history) == 4
    model.history.clear()

    result, source = await replay_run(recorded.run_id)

    assert len(model.history) == 0
    assert result.model_calls == 0 and source.served == 4 and source.misses == []
    assert result.to_dict()["outputs"] == recorded.to_dict()["outputs"]
    assert result.cost_usd == 0.0
    assert all(s.model == f"replay/{MODEL}" for s in result.steps if s.calls)


async def test_live_step_runs_for_real(model: FakeModel) -> None:
    recorded = await DocumentAnalysisWorkflow(model=MODEL, document=TEXT).execute()
    model.history.clear()
    result, source = await replay_run(recorded.run_id[:8], live=["sentiment"])
    assert len(model.history) == 1 and result.model_calls == 1
    assert result.step("sentiment").model == MODEL
    assert source.served == 3


async def test_changed_prompt_is_a_miss(
    model: FakeModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)
    monkeypatch.setenv("EIGHTFLOW_PROMPTS_DIR", str(prompts))
    recorded = await DocumentAnalysisWorkflow(model=MODEL, document=TEXT).execute()
    body = (prompts / "sentiment.v1.md").read_text().replace("version: 1", "version: 2")
    (prompts / "sentiment.v2.md").write_text(body.replace("Rate the", "Judge the"))
    model.history.clear()

    result, source = await replay_run(recorded.run_id)

    assert len(model.history) == 0
    assert result.step("sentiment").status == "failed"
    assert any("sentiment@v1, now sentiment@v2" in m for m in source.misses)
    assert "replay miss" in (result.step("sentiment").error or "")


async def test_unknown_run_is_a_clear_error(home: Path) -> None:
    from eightflow.errors import WorkflowError

    with pytest.raises(WorkflowError, match="no single recorded run"):
        await replay_run("doesnotexist")
