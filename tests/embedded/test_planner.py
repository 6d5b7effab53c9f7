"""The embedded planner: ``workflow_planning`` answered by rules, in the ``Plan`` schema.

Messages are rendered from the real planning prompt with the triage workflow's real
registry, exactly as the dynamic loop sends them (the document cut to 6,000 characters).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.tasks.loading import load_document
from eightflow_app.tasks.triage.planning import TRIAGE_PLANNING_RULES

from eightflow.embedded import EmbeddedModel, extract_document
from eightflow.embedded.engine import ALL_TASKS, TRIAGE_TASKS, infer_task
from eightflow.embedded.planner import plan_next_steps, planning_rules, use_planning_rules
from eightflow.embedded.profile import detect_language, find_tables, profile_document
from eightflow.planning.dynamic import Plan
from eightflow.prompts import PromptRegistry

REPO = Path(__file__).resolve().parents[2]
TRIAGE = REPO / "examples" / "triage"

ROUND_ONE: list[tuple[str, str, list[str]]] = [
    ("platform-weekly-sync.md", "meeting_notes", ["extract_actions", "summarize"]),
    ("harbour-cycle-club-faq.md", "faq", ["extract_faq", "summarize"]),
    ("tidewater-open-licence.txt", "legal", ["classify_legal"]),
    ("compte-rendu-jardins-partages.txt", "article", ["flag_language"]),
    ("hinweise-sommerkurs.txt", "article", ["flag_language"]),
    ("coastal-station-readings.csv", "tabular", ["extract_tables"]),
    ("northmere-annual-field-report.txt", "article", ["summarize_chunks"]),
    ("island-ferry-timetable.html", "article", ["extract_tables", "summarize"]),
]
OUTPUTS = {
    "summarize": ["summary", "key_points"],
    "summarize_chunks": ["summary", "key_points"],
    "extract_tables": ["tables"],
    "extract_actions": ["action_items"],
    "flag_language": ["language"],
    "classify_legal": ["legal"],
    "extract_faq": ["faq"],
}


@pytest.fixture(autouse=True)
def triage_rules() -> Any:
    """The planner plans by the rules its workflow installs: triage's, here."""
    before = planning_rules()
    use_planning_rules(TRIAGE_PLANNING_RULES)
    yield
    use_planning_rules(before)


def registry(without: Sequence[str] = ()) -> list[dict[str, Any]]:
    from eightflow_app.flows.document_triage import DocumentTriageWorkflow

    described = DocumentTriageWorkflow().step_factory.describe()
    return [t for t in described if t["name"] not in without]


def text_of(name: str) -> str:
    return load_document(TRIAGE / name).text


def message(
    document: str,
    *,
    executed: Sequence[str] = (),
    feedback: Sequence[dict[str, str]] = (),
    types: list[dict[str, Any]] | None = None,
    round: int = 1,
) -> str:
    """The planning prompt's user message, as DynamicWorkflow renders it."""
    available = {"document"} | {o for name in executed for o in OUTPUTS[name]}
    prompt = PromptRegistry().get("workflow_planning")
    rendered = prompt.render(
        document=document[:6000],
        registry=json.dumps(registry() if types is None else types, indent=1),
        state=json.dumps(
            {
                "round": round,
                "available": sorted(available),
                "executed": list(executed),
                "feedback": list(feedback),
            },
            indent=1,
        ),
    )
    return rendered[-1]["content"]


def ask(user_message: str) -> dict[str, Any]:
    """What the gateway's local provider does: the document plus the whole message."""
    answer = EmbeddedModel().respond(
        "workflow_planning", extract_document(user_message), {"message": user_message}
    )
    Plan.model_validate(answer)  # the prompt's output schema
    return answer


def types_of(plan: dict[str, Any]) -> list[str]:
    return [step["type"] for step in plan["steps"]]


@pytest.mark.parametrize(("name", "kind", "expected"), ROUND_ONE, ids=[r[0] for r in ROUND_ONE])
def test_round_one_plan_per_example(name: str, kind: str, expected: list[str]) -> None:
    plan = ask(message(text_of(name)))
    assert types_of(plan) == expected
    assert plan["done"] is False
    assert all(step["reason"] for step in plan["steps"])
    assert plan["rationale"].startswith(kind.replace("_", " "))
    assert profile_document(text_of(name)).kind == kind


@pytest.mark.parametrize(("name", "kind", "expected"), ROUND_ONE, ids=[r[0] for r in ROUND_ONE])
def test_round_two_is_done_once_the_plan_ran(name: str, kind: str, expected: list[str]) -> None:
    plan = ask(message(text_of(name), executed=expected, round=2))
    assert plan == {"rationale": plan["rationale"], "steps": [], "done": True}
    assert "nothing useful is left" in plan["rationale"]


def test_plans_differ_between_kinds_of_document() -> None:
    plans = {tuple(types_of(ask(message(text_of(name))))) for name, _, _ in ROUND_ONE}
    assert len(plans) == 7  # French and German share "flag_language"


def test_executed_steps_are_never_repeated() -> None:
    doc = text_of("platform-weekly-sync.md")
    assert types_of(ask(message(doc, executed=["extract_actions"]))) == ["summarize"]
    assert types_of(ask(message(doc, executed=["summarize"]))) == ["extract_actions"]
    # A summary from the other summarizer counts: its outputs are already there.
    assert types_of(ask(message(doc, executed=["summarize_chunks"]))) == ["extract_actions"]


def test_feedback_drops_the_rejected_types() -> None:
    doc = text_of("island-ferry-timetable.html")
    rejected = [{"step": "extract_tables", "problem": "unknown step type"}]
    plan = ask(message(doc, feedback=rejected))
    assert types_of(plan) == ["summarize"]
    assert "dropped rejected extract_tables" in plan["rationale"]
    # A rejected summarizer gives way to the other one, never to itself.
    other = ask(message(doc, feedback=[{"step": "summarize", "problem": "missing inputs: x"}]))
    assert types_of(other) == ["extract_tables", "summarize_chunks"]
    # Everything the rules want was rejected: nothing is left.
    licence = text_of("tidewater-open-licence.txt")
    none_left = ask(message(licence, feedback=[{"step": "classify_legal", "problem": "no"}]))
    assert none_left["steps"] == [] and none_left["done"] is True


def test_only_types_in_the_registry_are_planned() -> None:
    doc = text_of("northmere-annual-field-report.txt")
    plan = ask(message(doc, types=registry(without=["summarize_chunks"])))
    assert types_of(plan) == ["summarize"]
    faq = text_of("harbour-cycle-club-faq.md")
    plan = ask(
        message(faq, types=registry(without=["extract_faq", "summarize", "summarize_chunks"]))
    )
    assert plan["steps"] == [] and plan["done"] is True


def test_steps_whose_inputs_are_missing_are_not_planned() -> None:
    types = registry()
    for entry in types:
        if entry["name"] == "extract_faq":
            entry["inputs"] = ["document", "faq_index"]
    plan = ask(message(text_of("harbour-cycle-club-faq.md"), types=types))
    assert types_of(plan) == ["summarize"]


def test_a_cut_document_is_long() -> None:
    """The loop sends 6,000 characters at most; a cut excerpt means a long document."""
    full = text_of("northmere-annual-field-report.txt")
    assert len(full) > 6000 and profile_document(full[:6000]).long is False
    assert "cut" in ask(message(full))["rationale"]
    assert types_of(plan_next_steps("<document>" + full + "</document>")) == ["summarize_chunks"]
    short = text_of("harbour-cycle-club-faq.md")
    assert "cut" not in ask(message(short))["rationale"]


def test_deterministic() -> None:
    for name, _, _ in ROUND_ONE:
        user_message = message(text_of(name))
        assert ask(user_message) == ask(user_message)
        assert json.dumps(ask(user_message)) == json.dumps(plan_next_steps(user_message))


def test_without_blocks_the_message_is_the_document() -> None:
    doc = text_of("harbour-cycle-club-faq.md")
    assert types_of(EmbeddedModel().respond("workflow_planning", doc)) == [
        "extract_faq",
        "summarize",
    ]
    assert types_of(plan_next_steps("<registry>not json</registry><document>x</document>")) == [
        "summarize"
    ]


def test_without_rules_the_planner_proposes_nothing() -> None:
    use_planning_rules(None)
    plan = ask(message(text_of("harbour-cycle-club-faq.md")))
    assert plan["done"] is True and plan["steps"] == []
    assert "no planning rules are installed" in plan["rationale"]


def test_engine_registers_the_triage_tasks() -> None:
    assert TRIAGE_TASKS == ("workflow_planning", "action_items", "legal_classification",
                            "faq_extraction")  # fmt: skip
    assert set(ALL_TASKS) == set(EmbeddedModel.TASKS) | set(TRIAGE_TASKS)
    assert EmbeddedModel.TASKS == ("summarization", "topic_extraction", "sentiment", "entities")
    assert infer_task("Plan") == "workflow_planning"
    assert infer_task("ActionItems") == "action_items"
    assert infer_task("LegalClassification") == "legal_classification"
    assert infer_task("FaqPairs") == "faq_extraction"
    assert infer_task("Explanation") is None


async def test_through_the_gateway(home: Path) -> None:
    """The local provider hands the planner the whole message (registry and state too)."""
    from eightflow.gateway import ModelGateway

    gateway = ModelGateway("local/embedded")
    doc = text_of("platform-weekly-sync.md")
    variables = {
        "document": doc,
        "registry": json.dumps(registry()),
        "state": json.dumps(
            {"round": 2, "available": ["document", "action_items"],
             "executed": ["extract_actions"], "feedback": []}
        ),
    }  # fmt: skip
    plan = await gateway.generate("workflow_planning", **variables)
    assert isinstance(plan, Plan)
    assert [s.type for s in plan.steps] == ["summarize"] and plan.done is False


# -- the profile behind the rules -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The committee met on Tuesday and agreed that the new path should be open by June.", "en"),
        ("Le comité s'est réuni mardi et a décidé que le chemin sera ouvert pour les habitants.",
         "fr"),
        ("Der Ausschuss hat am Dienstag beschlossen, dass der Weg für die Bewohner offen ist.",
         "de"),
        ("El comité se reunió el martes y decidió que el camino estará abierto para los vecinos.",
         "es"),
        ("Il comitato si è riunito martedì e ha deciso che il sentiero sarà aperto per tutti.",
         "it"),
        ("O comitê se reuniu na terça e decidiu que o caminho será aberto para os moradores.",
         "pt"),
        ("De commissie is dinsdag bijeengekomen en heeft besloten dat het pad open is.", "nl"),
        ("12, 14, 15, 2025-03-01", "und"),
        ("", "und"),
    ],
)  # fmt: skip
def test_language_by_stopwords(text: str, code: str) -> None:
    assert detect_language(text)[0] == code


def test_tables_in_pipes_markdown_and_csv_but_not_prose() -> None:
    markdown = "| a | b |\n| --- | --- |\n| 1 | 2 |\n| 3 | 4 |"
    assert find_tables(markdown) == [{"columns": ["a", "b"], "rows": [["1", "2"], ["3", "4"]]}]
    rendered_html = "Intro line.\n\nRoute | Departs\nHolm | 07:30\n\nAfter."
    assert find_tables(rendered_html) == [
        {"columns": ["Route", "Departs"], "rows": [["Holm", "07:30"]]}
    ]
    tsv = "x\ty\n1\t2"
    assert find_tables(tsv) == [{"columns": ["x", "y"], "rows": [["1", "2"]]}]
    prose = (
        "The team met on Monday, and the plan was agreed after a long debate about costs.\n"
        "Everyone was there, although two members joined late because of the train strike.\n"
        "In the end, the chair thanked the volunteers and closed the meeting before noon."
    )
    bullets = "- apples, pears\n- plums, figs\n- kiwis, limes"
    assert find_tables(prose) == [] and find_tables(bullets) == []
    two_line_csv = "a,b\n1,2"  # a header and one row could be anything: not a table
    assert find_tables(two_line_csv) == []
