"""Every path a run takes goes through one pipeline: driver -> result -> review -> sinks.

The same four checks hold on a single run, a batch document, a planner-driven run and a
replay: the run is in the ledger, a review rule is applied, one root span per document is
exported with the ``gen_ai.*`` attributes and cost, and a target breach is announced.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow
from eightflow_app.flows.document_triage import DocumentTriageWorkflow
from eightflow_app.tasks.loading import load_document
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eightflow import PerformanceTargets, ReviewRule, WorkflowDefinition
from eightflow.batch import BatchOptions, BatchRunner
from eightflow.observe import otel
from eightflow.observe.targets import BREACH_EVENT
from eightflow.store.ledger import default_ledger
from tests.support.outcome_rows import Rows

pytestmark = pytest.mark.prefect  # runs flows against the session's Prefect API

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    REPO / "examples/documents" / n
    for n in ("grant-award-notice.txt", "harbour-lane-q3-results.txt")
]
LICENCE = REPO / "examples/triage/tidewater-open-licence.txt"

#: Asked of every run whose step ran; nobody answers a single run's form, so it times out.
ASK = {"always": True, "timeout_seconds": 1, "on_timeout": "approve"}
#: Any step slower than a microsecond breaches it: every run does.
TARGETS = PerformanceTargets(p95_step_latency_ms=0.001, window=5)


class ReviewedAnalysis(DocumentAnalysisWorkflow):
    def define(self) -> WorkflowDefinition:
        rule = ReviewRule(name="sentiment_asked", step="sentiment", output="sentiment", **ASK)
        return super().define().model_copy(update={"review": (rule,), "targets": TARGETS})


class ReviewedTriage(DocumentTriageWorkflow):
    review_rules = (ReviewRule(name="legal_asked", step="classify_legal", output="legal", **ASK),)

    def define(self) -> WorkflowDefinition:
        return super().define().model_copy(update={"targets": TARGETS})


@dataclass
class Ran:
    run_ids: list[str]
    breaches: list[dict[str, Any]]
    statuses: list[str]  # as the path reports them (a batch's rows)


async def single_run(tmp_path: Path, spans: InMemorySpanExporter) -> Ran:
    inputs = ReviewedAnalysis.inputs_from_path(str(DOCUMENTS[0]))
    result = await ReviewedAnalysis().execute(raise_on_failure=False, **inputs)
    return Ran([result.run_id], result.target_breaches, [result.status])


async def batch_documents(tmp_path: Path, spans: InMemorySpanExporter) -> Ran:
    folder = tmp_path / "docs"
    folder.mkdir()
    paths = [Path(shutil.copy(p, folder)) for p in DOCUMENTS]
    rows = Rows()
    options = BatchOptions(concurrency=2, workers=1, final_pass_s=0)
    runner = BatchRunner(ReviewedAnalysis(), options, paths, folder, load_document, sinks=[rows])
    await runner.run()
    return Ran(
        [str(r.run_id) for r in rows.rows], runner.target_breaches, [r.status for r in rows.rows]
    )


async def dynamic_run(tmp_path: Path, spans: InMemorySpanExporter) -> Ran:
    inputs = ReviewedTriage.inputs_from_path(str(LICENCE))
    result = await ReviewedTriage().execute(raise_on_failure=False, **inputs)
    assert (result.planning or [])[0]["accepted"] == ["classify_legal"]
    return Ran([result.run_id], result.target_breaches, [result.status])


async def replay(tmp_path: Path, spans: InMemorySpanExporter) -> Ran:
    from eightflow.replay import replay_run

    # The ledger keeps answers as excerpts by default, and the embedded model's answers are
    # not in the response cache: a replay of them needs whole records.
    os.environ["EIGHTFLOW_LEDGER_FULL_INPUTS"] = "1"
    try:
        recorded = await single_run(tmp_path, spans)
    finally:
        del os.environ["EIGHTFLOW_LEDGER_FULL_INPUTS"]
    spans.clear()
    result, source = await replay_run(recorded.run_ids[0])
    assert source.served > 0 and not source.misses and result.model_calls == 0
    return Ran([result.run_id], result.target_breaches, [result.status])


PATHS: dict[str, Callable[[Path, InMemorySpanExporter], Awaitable[Ran]]] = {
    "single": single_run,
    "batch": batch_documents,
    "dynamic": dynamic_run,
    "replay": replay,
}


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setenv("EIGHTFLOW_OTEL", "1")
    monkeypatch.setattr(otel, "_tracer", lambda: provider.get_tracer("test"))
    return exporter


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import prefect.events

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(prefect.events, "emit_event", lambda **event: sent.append(event))
    return sent


@pytest.mark.parametrize("path", sorted(PATHS))
async def test_every_path_records_reviews_exports_and_announces(
    path: str,
    home: Path,
    tmp_path: Path,
    spans: InMemorySpanExporter,
    events: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import eightflow.registry

    monkeypatch.setenv("EIGHTFLOW_REVIEW_POLL_S", "1")
    registered = eightflow.registry.load_workflow
    monkeypatch.setattr(  # a replay rebuilds the workflow by name: this test's, with its rules
        eightflow.registry,
        "load_workflow",
        lambda name: ReviewedAnalysis if name == "document_analysis" else registered(name),
    )
    ran = await PATHS[path](tmp_path, spans)
    ledger = default_ledger()

    # (a) each run is in the ledger
    assert ran.run_ids and all(ledger.run(run_id) is not None for run_id in ran.run_ids)
    # (b) the review rule was applied to each: asked for (a batch document needs review)
    for run_id in ran.run_ids:
        reviews = ledger.query("SELECT rule FROM reviews WHERE run_id = ?", (run_id,))
        assert [r["rule"] for r in reviews] in (["sentiment_asked"], ["legal_asked"]), run_id
    if path == "batch":
        assert ran.statuses == ["needs_review"] * len(DOCUMENTS)
    # (c) one root span per document, with the run's gen_ai usage and cost
    finished = spans.get_finished_spans()
    roots = [s for s in finished if s.parent is None]
    assert sorted(str(s.attributes["eightflow.run_id"]) for s in roots) == sorted(ran.run_ids)
    for root in roots:
        assert root.name.startswith("workflow ")
        assert root.attributes["gen_ai.usage.input_tokens"] > 0
        assert root.attributes["gen_ai.request.model"]
        assert root.attributes["eightflow.cost_usd"] == 0.0  # the embedded model is free
    calls = [s for s in finished if s.name.startswith("chat ")]
    assert calls and all(s.attributes["gen_ai.usage.output_tokens"] > 0 for s in calls)
    # (d) the latency target is breached, and the breach announced as a Prefect event
    assert ran.breaches and ran.breaches[0]["target"].startswith("p95_step_latency_ms")
    # and a person's decision (a single run's, in the run) as a decided event
    from eightflow.review.decide import DECIDED_EVENT

    expected = {BREACH_EVENT} if path == "batch" else {BREACH_EVENT, DECIDED_EVENT}
    assert {e["event"] for e in events} == expected
