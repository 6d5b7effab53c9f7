"""The embedded answers to the triage prompts: action items, legal classification, FAQ pairs."""

from __future__ import annotations

from pathlib import Path

import pytest
from eightflow_app.tasks.loading import load_document

from eightflow.embedded import EmbeddedModel

REPO = Path(__file__).resolve().parents[2]
TRIAGE = REPO / "examples" / "triage"
DOCUMENTS = REPO / "examples" / "documents"


def respond(task: str, text: str) -> dict:  # type: ignore[type-arg]
    return EmbeddedModel().respond(task, text)


@pytest.mark.parametrize("task", ["action_items", "legal_classification", "faq_extraction"])
@pytest.mark.parametrize("text", ["", "!!!", "a", "Plain words with nothing in them."])
def test_answers_match_the_prompt_schemas(task: str, text: str) -> None:
    from eightflow_app.tasks.triage import schemas

    schema = {
        "action_items": schemas.ActionItems,
        "legal_classification": schemas.LegalClassification,
        "faq_extraction": schemas.FaqPairs,
    }[task]
    schema.model_validate(respond(task, text))
    schema.model_validate(respond(task, load_document(TRIAGE / "platform-weekly-sync.md").text))


def test_action_items_of_the_example_meeting() -> None:
    items = respond("action_items", load_document(TRIAGE / "platform-weekly-sync.md").text)
    assert items["items"] == [
        {"action": "Merge the export-service fix", "owner": "Tomás", "due": "Thursday"},
        {"action": "Review the schema change for the second blocker", "owner": "Hannah",
         "due": "14 March"},
        {"action": "Update the on-call handover template", "owner": "Lukas", "due": "1 April"},
        {"action": "Send Larkspur Foods a written update", "owner": "Priya", "due": "Friday"},
        {"action": "Profile the audit log on the staging cluster", "owner": "Mei Chen",
         "due": "21 March"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("TODO: book the venue @sam by end of the week",
         {"action": "Book the venue", "owner": "sam", "due": "end of the week"}),
        ("- [ ] Ana will draft the press release before 2025-04-02",
         {"action": "Draft the press release", "owner": "Ana", "due": "2025-04-02"}),
        ("Action: the team to rerun the benchmark",
         {"action": "The team to rerun the benchmark", "owner": None, "due": None}),
        ("ACTION - Ravi Patel: renew the certificate due: March 3rd",
         {"action": "Renew the certificate", "owner": "Ravi Patel", "due": "March 3rd"}),
    ],
)  # fmt: skip
def test_action_item_shapes(line: str, expected: dict) -> None:  # type: ignore[type-arg]
    assert respond("action_items", f"Notes\n\n{line}\n")["items"] == [expected]


def test_action_tables_and_sections() -> None:
    minutes = respond("action_items", load_document(DOCUMENTS / "riverbend-board-minutes.md").text)
    assert minutes["items"][0] == {
        "action": "Launch member consultation on Paisley branch",
        "owner": "Kwame Asante",
        "due": "17 March 2025",
    }
    # Bullets outside an action section are not actions; decisions are not actions either.
    notes = "## Decisions\n- Priya to lead the launch.\n\n## Next steps\n- Omar to call the bank.\n"
    assert respond("action_items", notes)["items"] == [
        {"action": "Call the bank", "owner": "Omar", "due": None}
    ]


@pytest.mark.parametrize(
    ("path", "kind", "skip"),
    [
        (TRIAGE / "tidewater-open-licence.txt", "licence", True),
        (DOCUMENTS / "cobalt-verdant-services-agreement.pdf", "contract", True),
        (TRIAGE / "platform-weekly-sync.md", "other", False),
        (TRIAGE / "harbour-cycle-club-faq.md", "other", False),
    ],
)
def test_legal_classification(path: Path, kind: str, skip: bool) -> None:
    answer = respond("legal_classification", load_document(path).text)
    assert (answer["kind"], answer["skip_deep_analysis"]) == (kind, skip)
    assert 0 <= answer["confidence"] <= 1


def test_policy_and_terms() -> None:
    policy = (
        "Privacy notice. We collect personal data when you sign up. Cookies help us count "
        "visits. Personal data is kept for two years under our retention rules and our data "
        "protection officer answers questions about privacy."
    )
    assert respond("legal_classification", policy)["kind"] == "policy"
    terms = (
        "Terms of service. By using the site you agree to these terms and conditions. You "
        "agree not to share your account. We may suspend your account for breaches of the "
        "acceptable use rules."
    )
    assert respond("legal_classification", terms)["kind"] == "terms"


def test_faq_pairs_of_the_examples() -> None:
    pairs = respond("faq_extraction", load_document(TRIAGE / "harbour-cycle-club-faq.md").text)
    assert [p["question"] for p in pairs["pairs"]] == [
        "Who can join the club?",
        "How much does membership cost?",
        "Do I need my own bike?",
        "When and where do rides start?",
        "Is a helmet required?",
        "What happens if a ride is cancelled?",
    ]
    assert pairs["pairs"][4]["answer"] == "Yes, on every club ride, without exception."
    kestrel = respond(
        "faq_extraction", load_document(DOCUMENTS / "kestrel-remote-work-faq.md").text
    )
    assert len(kestrel["pairs"]) >= 5


def test_faq_q_and_a_prefixes_and_unanswered_questions() -> None:
    text = (
        "Q: Can I bring a guest?\nA: Yes, one guest per member.\n\n"
        "**Is parking free?**\n\n## Other\n\nQ. Where is the office?\nA. On the second floor."
    )
    assert respond("faq_extraction", text)["pairs"] == [
        {"question": "Can I bring a guest?", "answer": "Yes, one guest per member."},
        {"question": "Where is the office?", "answer": "On the second floor."},
    ]
