"""Grounding on every path: a model that invents entities and figures is caught.

A stub model names "Globex Corporation" and says "revenue rose 42%" of documents that say
neither. On a single run, a batch document, a planner-driven run and a replay, with review
on, the run asks a person under the ``grounding`` rule with the reason ``ungrounded: ...``,
and the step's trace (the ledger's step notes) holds why. With review off, a batch's row is
``grounded=False``, stays completed, and the summary counts it. The embedded model's batch
over the shipped documents is grounded throughout.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow
from eightflow_app.flows.document_triage import DocumentTriageWorkflow
from eightflow_app.tasks.loading import load_document
from rich.console import Console

from eightflow import ReviewRule, WorkflowDefinition
from eightflow.batch import BatchOptions, BatchRunner
from eightflow.cli.progress import print_batch
from eightflow.cli.render import print_result
from eightflow.embedded.engine import EmbeddedModel
from eightflow.observe.report import run_report
from eightflow.observe.tracer import WorkflowTracer
from eightflow.providers import ProviderRequest
from eightflow.store.ledger import default_ledger
from tests.support.fake_model import FakeModel
from tests.support.outcome_rows import Rows

pytestmark = pytest.mark.prefect  # runs flows against the session's Prefect API

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "examples/documents/grant-award-notice.txt"
TRIAGE_DOCUMENT = REPO / "examples/triage/northmere-annual-field-report.txt"
INVENTED = {
    "summarization": {
        "summary": "Globex Corporation reported that revenue rose 42% this year.",
        "key_points": ["Revenue rose 42%"],
    },
    "entities": {"entities": [{"text": "Globex Corporation", "type": "organization"}]},
}
MODEL = "fake/model"
#: Review on, with a trigger that never fires on its own: only grounding asks. Nobody
#: answers a single run's form, so it times out after a second and approves.
QUIET = {"confidence_below": 0.000001, "timeout_seconds": 1, "on_timeout": "approve"}


class InventingModel(FakeModel):
    """Invents the summary and the entities; answers the rest as the embedded model."""

    def __call__(self, request: ProviderRequest) -> str:
        self.history.append(request)
        invented = INVENTED.get(request.prompt_id or "")
        if invented is not None:
            return json.dumps(invented)
        text = request.user_text
        answer = EmbeddedModel().respond(request.prompt_id or "", text, {"message": text})
        return json.dumps(answer)


class ReviewedAnalysis(DocumentAnalysisWorkflow):
    def define(self) -> WorkflowDefinition:
        rule = ReviewRule(name="quiet", step="sentiment", output="sentiment", **QUIET)
        return super().define().model_copy(update={"review": (rule,)})


class ReviewedTriage(DocumentTriageWorkflow):
    review_rules = (ReviewRule(name="quiet", step="summarize", output="summary", **QUIET),)


async def single_run(tmp_path: Path) -> list[str]:
    inputs = ReviewedAnalysis.inputs_from_path(str(DOCUMENT))
    workflow = ReviewedAnalysis(model=MODEL)
    result = await workflow.execute(raise_on_failure=False, **inputs)
    assert result.grounded is False
    # the trace artifact's rows, the report artifact and the CLI say why
    trace = {row["step"]: row["grounding"] for row in WorkflowTracer.rows(result)}
    assert trace["summarization"].startswith("ungrounded: ") and trace["compilation"] is None
    assert "**Ungrounded:**" in run_report(workflow.definition, result)
    console = Console(record=True, width=200)
    print_result(result, console)
    assert "summarization: ungrounded: " in console.export_text()
    return [result.run_id]


async def batch_document(tmp_path: Path) -> list[str]:
    rows = await _batch(ReviewedAnalysis(model=MODEL), [DOCUMENT], tmp_path)
    assert [(r.status, r.grounded) for r in rows.rows] == [("needs_review", False)]
    assert rows.rows[0].results_row()["grounded"] is False
    assert str(rows.rows[0].row["review_reason"]).startswith("ungrounded: ")
    return [str(r.run_id) for r in rows.rows]


async def dynamic_run(tmp_path: Path) -> list[str]:
    inputs = ReviewedTriage.inputs_from_path(str(TRIAGE_DOCUMENT))
    result = await ReviewedTriage(model=MODEL).execute(raise_on_failure=False, **inputs)
    assert result.grounded is False, result.planning
    return [result.run_id]


async def replay(tmp_path: Path) -> list[str]:
    from eightflow.replay import replay_run

    # The ledger keeps long answers as excerpts unless asked for whole records, and the
    # fake model's answers are not in the response cache: a replay of them needs both.
    os.environ["EIGHTFLOW_LEDGER_FULL_INPUTS"] = "1"
    try:
        recorded = await single_run(tmp_path)
    finally:
        del os.environ["EIGHTFLOW_LEDGER_FULL_INPUTS"]
    result, source = await replay_run(recorded[0])
    assert source.served > 0 and not source.misses and result.model_calls == 0
    assert result.grounded is False
    return [result.run_id]


PATHS: dict[str, Callable[[Path], Awaitable[list[str]]]] = {
    "single": single_run,
    "batch": batch_document,
    "dynamic": dynamic_run,
    "replay": replay,
}


async def _batch(workflow: object, documents: list[Path], tmp_path: Path) -> Rows:
    folder = tmp_path / "docs"
    folder.mkdir()
    paths = [Path(shutil.copy(p, folder)) for p in documents]
    rows = Rows()
    options = BatchOptions(concurrency=2, workers=1, final_pass_s=0)
    runner = BatchRunner(workflow, options, paths, folder, load_document, sinks=[rows])  # type: ignore[arg-type]
    rows.summary = await runner.run()  # type: ignore[attr-defined]
    return rows


@pytest.fixture
def inventing() -> InventingModel:
    return InventingModel().install()


@pytest.mark.parametrize("path", sorted(PATHS))
async def test_an_invented_answer_is_sent_to_review_on_every_path(
    path: str,
    home: Path,
    tmp_path: Path,
    inventing: InventingModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import eightflow.registry

    monkeypatch.setenv("EIGHTFLOW_REVIEW_POLL_S", "1")
    registered = eightflow.registry.load_workflow
    monkeypatch.setattr(  # a replay rebuilds the workflow by name: this test's, with its rule
        eightflow.registry,
        "load_workflow",
        lambda name: ReviewedAnalysis if name == "document_analysis" else registered(name),
    )
    run_ids = await PATHS[path](tmp_path)
    ledger = default_ledger()
    for run_id in run_ids:
        reviews = ledger.query("SELECT rule, reasons FROM reviews WHERE run_id = ?", (run_id,))
        grounding = [json.loads(r["reasons"]) for r in reviews if r["rule"] == "grounding"]
        assert grounding, (path, reviews)
        reason = grounding[0][0]
        assert reason.startswith("ungrounded: ")
        assert "Globex" in reason or "42" in reason
        # the reasons are in the step's trace, as the ledger keeps it
        notes = [
            json.loads(s["notes"])["grounding"]
            for s in ledger.query("SELECT notes FROM steps WHERE run_id = ?", (run_id,))
            if s["notes"] and "grounding" in json.loads(s["notes"])
        ]
        assert any(n["grounded"] is False and n["reasons"] for n in notes), notes


async def test_with_review_off_the_row_is_marked_and_counted(
    home: Path, tmp_path: Path, inventing: InventingModel
) -> None:
    from eightflow_app.tasks.publishing import batch_report

    rows = await _batch(DocumentAnalysisWorkflow(model=MODEL), [DOCUMENT], tmp_path)
    [row] = rows.rows
    assert (row.status, row.grounded) == ("completed", False)
    summary = rows.summary  # type: ignore[attr-defined]
    assert summary.ungrounded == [row.id] and summary.brief()["ungrounded"] == 1
    assert "1 ungrounded" in batch_report(summary)
    console = Console(record=True, width=200)
    print_batch({**summary.brief(), "out": str(tmp_path)}, console)
    assert "completed 1, ungrounded 1," in console.export_text()
    summarization = next(s for s in row.steps if s.name == "summarization")
    assert "Globex" in " ".join(summarization.notes["grounding"]["reasons"])
    assert not default_ledger().query("SELECT * FROM reviews")


async def test_the_embedded_models_batch_is_grounded(home: Path, tmp_path: Path) -> None:
    documents = sorted((REPO / "examples/documents").iterdir())
    rows = await _batch(DocumentAnalysisWorkflow(), documents, tmp_path)
    assert len(rows.rows) == len(documents) >= 10
    grounded = {r.id: (r.status, r.grounded) for r in rows.rows}
    notes = {r.id: [s.notes.get("grounding") for s in r.steps] for r in rows.rows if not r.grounded}
    assert set(grounded.values()) == {("completed", True)}, notes
    assert rows.summary.ungrounded == []  # type: ignore[attr-defined]
