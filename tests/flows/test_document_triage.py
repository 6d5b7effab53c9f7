"""``document_triage`` end to end, offline: the embedded model plans and the steps run.

Every example in ``examples/triage`` gets its own plan (an FAQ is not a licence, a French
memo is not a CSV), the planned steps produce what the document holds, and every planning
round is kept in the result and in the ledger. The CLI runs it on one file and on a folder.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.flows.document_triage import DocumentTriageWorkflow, document_triage_flow
from typer.testing import CliRunner

from eightflow.cli.main import app
from eightflow.planning.dynamic import Plan, PlanError, PlannedStep
from eightflow.store.ledger import Ledger, default_ledger

pytestmark = pytest.mark.prefect

REPO = Path(__file__).resolve().parents[2]
TRIAGE = REPO / "examples" / "triage"

MEETING = "platform-weekly-sync.md"
FAQ = "harbour-cycle-club-faq.md"
LICENCE = "tidewater-open-licence.txt"
FRENCH = "compte-rendu-jardins-partages.txt"
GERMAN = "hinweise-sommerkurs.txt"
CSV_DATA = "coastal-station-readings.csv"
LONG = "northmere-annual-field-report.txt"
HTML = "island-ferry-timetable.html"

PLANS: dict[str, list[str]] = {  # round 1 of the embedded planner, in its order
    MEETING: ["extract_actions", "summarize"],
    FAQ: ["extract_faq", "summarize"],
    LICENCE: ["classify_legal"],
    FRENCH: ["flag_language"],
    GERMAN: ["flag_language"],
    CSV_DATA: ["extract_tables"],
    LONG: ["summarize_chunks"],
    HTML: ["extract_tables", "summarize"],
}
KINDS = {
    MEETING: "meeting_notes",
    FAQ: "faq",
    LICENCE: "legal",
    FRENCH: "article",
    GERMAN: "article",
    CSV_DATA: "tabular",
    LONG: "article",
    HTML: "article",
}
STEP_OUTPUTS = {
    "summarize": "summary",
    "summarize_chunks": "summary",
    "extract_tables": "tables",
    "extract_actions": "action_items",
    "flag_language": "language",
    "classify_legal": "legal",
    "extract_faq": "faq",
}


def test_examples_are_all_here() -> None:
    names = {p.name for p in TRIAGE.iterdir()}
    assert names == set(PLANS)


async def run(name: str) -> Any:
    inputs = DocumentTriageWorkflow.inputs_from_path(str(TRIAGE / name))
    return await DocumentTriageWorkflow().execute(**inputs)


@dataclass(frozen=True)
class Triaged:
    results: dict[str, Any]  # example name -> its WorkflowResult
    ledger: Ledger  # where those runs were recorded


@pytest.fixture(scope="module")
async def triaged(tmp_path_factory: pytest.TempPathFactory) -> Triaged:
    """Each example run once for the module, in its own EIGHTFLOW_HOME: the tests only read
    the results (a fresh run per test repeated the same deterministic run up to four times)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EIGHTFLOW_HOME", str(tmp_path_factory.mktemp("triage-home")))
        results = {name: await run(name) for name in sorted(PLANS)}
        return Triaged(results, default_ledger())


@pytest.mark.parametrize("name", sorted(PLANS))
def test_each_example_gets_its_plan_and_the_trace_keeps_every_round(
    triaged: Triaged, name: str
) -> None:
    result = triaged.results[name]
    assert result.status == "completed", result.error
    planning = result.planning or []
    # Round 1 plans by the rules; round 2 finds nothing left and says done.
    assert [r["round"] for r in planning] == [1, 2]
    first, last = planning
    assert first["accepted"] == PLANS[name]
    assert [p["type"] for p in first["plan"]] == PLANS[name]
    assert all(p["reason"] for p in first["plan"])
    assert first["prompt"] == "workflow_planning@v1" and not first["rejected"]
    assert first["rationale"].startswith(KINDS[name].replace("_", " "))
    assert last["done"] and last["accepted"] == [] and last["plan"] == []
    # The planning calls are steps of the trace; exactly the planned steps ran besides them,
    # and only their outputs (plus the profile) are there.
    assert [s.name for s in result.steps if s.name.startswith("plan-")] == ["plan-1", "plan-2"]
    ran = sorted(s.name for s in result.steps if not s.name.startswith("plan-"))
    assert ran == sorted(PLANS[name])
    assert all(s.status == "completed" for s in result.steps)
    produced = {STEP_OUTPUTS[s] for s in PLANS[name]}
    assert produced <= set(result.outputs)
    assert not ({*STEP_OUTPUTS.values()} - produced) & set(result.outputs)
    assert result.outputs["profile"]["kind"] == KINDS[name]
    # The ledger holds the same rounds.
    rows = triaged.ledger.query(
        "SELECT round, prompt, accepted, done, rationale FROM planning WHERE run_id = ? "
        "ORDER BY round",
        (result.run_id,),
    )
    assert [(r["round"], json.loads(r["accepted"]), r["done"]) for r in rows] == [
        (1, PLANS[name], 0),
        (2, [], 1),
    ]
    assert rows[0]["rationale"] == first["rationale"]
    # The planner's calls were model calls like any other, on the embedded model, for free.
    assert result.cost_usd == 0.0


def test_plans_differ_by_kind_of_document(triaged: Triaged) -> None:
    plans = {}
    for name in sorted(PLANS):
        result = triaged.results[name]
        plans[name] = tuple((result.planning or [])[0]["accepted"])
    assert plans == {name: tuple(plan) for name, plan in PLANS.items()}
    assert len(set(plans.values())) == 7  # the French and the German memo share theirs


def test_meeting_notes_give_action_items_with_owners_and_dates(triaged: Triaged) -> None:
    out = triaged.results[MEETING].outputs
    items = [(a.owner, a.due) for a in out["action_items"]]
    assert items == [
        ("Tomás", "Thursday"),
        ("Hannah", "14 March"),
        ("Lukas", "1 April"),
        ("Priya", "Friday"),
        ("Mei Chen", "21 March"),
    ]
    assert out["action_items"][0].action == "Merge the export-service fix"
    assert out["summary"] and out["key_points"]


def test_faq_gives_its_question_answer_pairs(triaged: Triaged) -> None:
    out = triaged.results[FAQ].outputs
    pairs = out["faq"]
    assert len(pairs) == 6
    assert pairs[0].question == "Who can join the club?"
    assert pairs[1].answer.startswith("Full membership is £45 a year.")
    assert all(p.question.endswith("?") and p.answer for p in pairs)


def test_licence_is_classified_and_deep_analysis_skipped(triaged: Triaged) -> None:
    result = triaged.results[LICENCE]
    legal = result.outputs["legal"]
    assert legal.kind == "licence" and legal.skip_deep_analysis and legal.confidence > 0.5
    assert "summary" not in result.outputs


@pytest.mark.parametrize(("name", "code"), [(FRENCH, "fr"), (GERMAN, "de")])
def test_other_languages_are_flagged_and_not_analysed(
    triaged: Triaged, name: str, code: str
) -> None:
    result = triaged.results[name]
    language = result.outputs["language"]
    assert (language.code, language.english) == (code, False)
    assert language.confidence >= 0.5
    assert "summary" not in result.outputs
    assert result.model_calls == 2  # the two planning rounds, nothing else


def test_tables_come_out_with_their_columns(triaged: Triaged) -> None:
    data = triaged.results[CSV_DATA].outputs["tables"]
    assert len(data) == 1
    assert data[0].columns == ["station", "date", "temperature_c", "rainfall_mm", "wind_kmh"]
    assert len(data[0].rows) == 12 and data[0].rows[0] == [
        "North Pier",
        "2025-03-01",
        "7.4",
        "2.1",
        "18",
    ]
    html = triaged.results[HTML].outputs
    assert [t.columns for t in html["tables"]] == [["Route", "Departs", "Arrives", "Days"]]
    assert html["tables"][0].rows[2] == ["Merrow to Skerry", "10:00", "11:05", "Mon, Wed, Fri"]
    assert html["summary"]


def test_long_report_is_summarized_section_by_section(triaged: Triaged) -> None:
    result = triaged.results[LONG]
    step = result.step("summarize_chunks")
    chunking = step.notes["chunking"]
    assert chunking["strategy"] == "map-reduce" and chunking["chunks"] >= 3
    assert len(step.calls) == chunking["chunks"] + 1  # one per section, one to reduce
    assert result.outputs["summary"] and len(result.outputs["key_points"]) == chunking["chunks"]
    assert result.outputs["profile"]["long"] is True


def test_result_row_is_flat() -> None:
    from eightflow.runtime.records import WorkflowResult

    wf = DocumentTriageWorkflow()
    empty = WorkflowResult.model_validate(
        {
            "run_id": "r",
            "workflow": "document_triage",
            "version": "v",
            "status": "completed",
            "started": "2025-01-01T00:00:00Z",
            "finished": "2025-01-01T00:00:00Z",
            "duration_ms": 0,
        }
    )
    row = wf.result_row(empty)
    assert row["faq_pairs"] == 0 and row["tables"] == "" and row["legal_class"] == ""
    assert all(isinstance(v, str | int | bool) for v in row.values())


def test_result_rows_per_kind(triaged: Triaged) -> None:
    wf = DocumentTriageWorkflow()
    rows = {}
    for name in (MEETING, FAQ, LICENCE, FRENCH, CSV_DATA):
        rows[name] = wf.result_row(triaged.results[name])
    assert rows[MEETING]["steps_run"] == "extract_actions; summarize"
    assert "Merge the export-service fix (Tomás, due Thursday)" in rows[MEETING]["action_items"]
    assert rows[FAQ]["faq_pairs"] == 6 and rows[FAQ]["kind"] == "faq"
    assert rows[LICENCE]["legal_class"] == "licence" and rows[LICENCE]["deep_analysis_skipped"]
    assert rows[FRENCH]["language"] == "fr" and rows[FRENCH]["deep_analysis_skipped"]
    assert rows[FRENCH]["summary"] == ""
    assert rows[CSV_DATA]["tables"].startswith("12 rows × station, date")
    assert all(r["planning_rounds"] == 2 for r in rows.values())


def test_factory_sends_back_two_summarizers_in_one_plan() -> None:
    factory = DocumentTriageWorkflow().step_factory
    both = Plan(steps=[PlannedStep(type="summarize"), PlannedStep(type="summarize_chunks")])
    with pytest.raises(PlanError) as caught:
        factory.create_steps(both, {"document"}, set())
    assert caught.value.problems == [
        {"step": "summarize_chunks",
         "problem": "writes the same outputs as summarize in this plan; choose one"},
    ]  # fmt: skip
    again = Plan(steps=[PlannedStep(type="summarize_chunks")])
    with pytest.raises(PlanError, match="already available: summary"):
        factory.create_steps(again, {"document", "summary", "key_points"}, {"summarize"})
    ok = factory.create_steps(
        Plan(steps=[PlannedStep(type="extract_faq"), PlannedStep(type="summarize")]),
        {"document"},
        set(),
    )
    assert [s.name for s in ok] == ["extract_faq", "summarize"]


def test_definition_lists_the_registry_and_versions_the_planning_prompt() -> None:
    wf = DocumentTriageWorkflow()
    assert [s.name for s in wf.definition.steps] == [
        "summarize", "summarize_chunks", "extract_tables", "extract_actions",
        "flag_language", "classify_legal", "extract_faq",
    ]  # fmt: skip
    assert wf.definition.prompt_ids() == [
        "action_items", "faq_extraction", "legal_classification", "summarization",
        "workflow_planning",
    ]  # fmt: skip
    assert len(wf.version) == 12


async def test_deployable_flow(home: Path) -> None:
    state = await document_triage_flow(path=str(TRIAGE / FAQ), return_state=True)
    assert state.is_completed()
    out = await state.result()
    assert out["status"] == "completed" and out["steps_run"] == ["extract_faq", "summarize"]
    assert document_triage_flow.name == "document-triage"


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def runner(home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # As in tests/cli: use the session's Prefect API, never start or adopt a local server.
    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return CliRunner()


def test_cli_run_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["run", "document_triage", str(TRIAGE / FAQ), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "completed" and data["workflow"] == "document_triage"
    assert [r["accepted"] for r in data["planning"]] == [["extract_faq", "summarize"], []]
    assert len(data["outputs"]["faq"]) == 6
    assert data["outputs"]["faq"][0]["question"] == "Who can join the club?"
    assert [s["name"] for s in data["steps"]] == ["plan-1", "extract_faq", "summarize", "plan-2"]


def test_cli_run_plain(runner: CliRunner) -> None:
    result = runner.invoke(app, ["run", "document_triage", str(TRIAGE / LICENCE)])
    assert result.exit_code == 0, result.output
    assert "document_triage run" in result.stdout and "completed" in result.stdout
    assert "classify_legal" in result.stdout and "licence" in result.stdout


def analyze(runner: CliRunner, out: Path, *options: str) -> tuple[Any, dict[str, dict[str, str]]]:
    result = runner.invoke(
        app,
        [
            "analyze",
            str(TRIAGE),
            "--workflow",
            "document_triage",
            "--out",
            str(out),
            "--json",
            *options,
        ],
    )
    rows: dict[str, dict[str, str]] = {}
    if (out / "results.csv").exists():
        with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
            rows = {row["id"]: row for row in csv.DictReader(fh)}
    return result, rows


REVIEWED_STEPS = {"flag_language", "classify_legal"}  # the steps with review rules


def test_cli_analyze_review_below_sends_planned_classifications_to_review(
    runner: CliRunner, tmp_path: Path
) -> None:
    # A planner-driven run goes through the review rules like any other: the rules of the
    # steps the planner chose fire (every confidence is below 1.0), the others do not.
    result, rows = analyze(runner, tmp_path / "out", "--review-below", "1.0")
    brief = json.loads(result.stdout)
    expected = {name for name, plan in PLANS.items() if REVIEWED_STEPS & set(plan)}
    assert expected == {LICENCE, FRENCH, GERMAN}
    assert {n for n, row in rows.items() if row["status"] == "needs_review"} == expected
    assert {n for n, row in rows.items() if row["status"] == "completed"} == set(PLANS) - expected
    assert brief["needs_review"] == len(expected), brief
    pending = default_ledger().query(
        "SELECT document_id, rule FROM reviews WHERE status = 'pending' ORDER BY document_id"
    )
    assert {(r["document_id"], r["rule"]) for r in pending} == {
        (LICENCE, "legal_confidence"),
        (FRENCH, "language_confidence"),
        (GERMAN, "language_confidence"),
    }


def test_cli_analyze_folder_runs_the_planner_per_document(
    runner: CliRunner, tmp_path: Path
) -> None:
    # The batch runner runs a DynamicWorkflow's planning loop per document (not the static
    # definition, which would run the whole registry), and records each run's rounds.
    result, rows = analyze(runner, tmp_path / "out")
    assert result.exit_code == 0, result.output
    brief = json.loads(result.stdout)
    assert brief["total"] == brief["completed"] == len(PLANS)
    assert set(rows) == set(PLANS)
    for name, plan in PLANS.items():
        assert rows[name]["status"] == "completed"
        assert rows[name]["steps_run"] == "; ".join(plan), name
        assert rows[name]["planning_rounds"] == "2"
        assert rows[name]["kind"] == KINDS[name]
    assert rows[FAQ]["faq_pairs"] == "6"
    assert rows[LICENCE]["legal_class"] == "licence"
    assert rows[GERMAN]["language"] == "de"
    planned = default_ledger().query(
        "SELECT COUNT(DISTINCT p.run_id) AS n FROM planning p JOIN runs r USING (run_id) "
        "WHERE r.workflow = 'document_triage' AND r.batch_id IS NOT NULL"
    )
    assert planned[0]["n"] == len(PLANS)
    # The report and the trace of the batch hold the triage steps.
    trace = [
        json.loads(line) for line in (tmp_path / "out" / "trace.jsonl").read_text().splitlines()
    ]
    assert {t["step"] for t in trace} >= {"plan-1", "plan-2", *STEP_OUTPUTS}
