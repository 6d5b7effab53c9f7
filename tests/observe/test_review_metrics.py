"""Review, approval and edit rates per step and prompt version, from the ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eightflow.cli.main import app
from eightflow.observe.review_metrics import review_rates
from eightflow.store.ledger import Ledger, default_ledger

NOW = datetime.now(UTC).isoformat()
# (run, prompt of the sentiment step, review decision or None for no review, or "pending")
RUNS = [
    ("r1", "sentiment@v1", "approve"),
    ("r2", "sentiment@v1", "edit"),
    ("r3", "sentiment@v1", None),
    ("r4", "sentiment@v1", None),
    ("r5", "sentiment@v2", "reject"),
    ("r6", "sentiment@v2", "pending"),
]


def seed(ledger: Ledger) -> None:
    for run_id, prompt, decision in RUNS:
        ledger.write(
            "INSERT INTO runs (run_id, workflow, version, status, started) VALUES (?,?,?,?,?)",
            (run_id, "document_analysis", "v", "completed", NOW),
        )
        ledger.write(
            "INSERT INTO steps (run_id, name, status, prompt) VALUES (?,?,?,?)",
            (run_id, "sentiment", "completed", prompt),
        )
        if decision is None:
            continue
        decided = decision != "pending"
        ledger.write(
            "INSERT INTO reviews (review_id, run_id, workflow, step, rule, output, prompt, "
            "status, created, decision, seconds_to_decide) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                f"rv{run_id}",
                run_id,
                "document_analysis",
                "sentiment",
                "sentiment_confidence",
                "sentiment",
                prompt,
                decision if not decided else f"{decision}d",
                NOW,
                decision if decided else None,
                30.0 if decided else None,
            ),
        )


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (
            "sentiment@v1",
            {"step_runs": 4, "reviews": 2, "pending": 0, "review_rate": 0.5,
             "approval_rate": 0.5, "edit_rate": 0.5, "rejection_rate": 0.0},
        ),
        (
            "sentiment@v2",
            {"step_runs": 2, "reviews": 2, "pending": 1, "review_rate": 1.0,
             "approval_rate": 0.0, "edit_rate": 0.0, "rejection_rate": 1.0},
        ),
    ],
)  # fmt: skip
def test_rates_per_step_and_prompt(tmp_path: Path, prompt: str, expected: dict) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    seed(ledger)
    by_prompt = {r["prompt"]: r for r in review_rates(ledger)}
    assert {k: by_prompt[prompt][k] for k in expected} == expected
    assert by_prompt[prompt]["median_seconds_to_decide"] == 30.0


def test_report_shows_review_rates(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(default_ledger())
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--format", "json", "--out", str(home / "r")])
    assert result.exit_code == 0, result.output
    rates = json.loads(result.stdout)["reviews"]
    assert {(r["prompt"], r["review_rate"]) for r in rates} == {
        ("sentiment@v1", 0.5),
        ("sentiment@v2", 1.0),
    }
    table = runner.invoke(app, ["report", "--out", str(home / "r")])
    assert "Reviews" in table.stdout and "approval" in table.stdout and "100.0%" in table.stdout
    markdown = runner.invoke(app, ["report", "--format", "markdown", "--out", str(home / "r")])
    assert "## Reviews" in markdown.stdout and "| sentiment@v2 |" in markdown.stdout


# (run, model, prompt of the entities step, the grounding note's reasons; None: grounded)
UNGROUNDED = [
    ("g1", "openai/gpt-4o-mini", "entities@v1", ["entity 'Atlantis' is not in the document"]),
    ("g2", "openai/gpt-4o-mini", "entities@v1", ["entity 'El Dorado' is not in the document"]),
    (
        "g3",
        "openai/gpt-4o-mini",
        "entities@v2",
        ["summary cites '42%', which the document does not"],
    ),
    ("g4", "local/embedded", "entities@v1", None),
]


def seed_grounding(ledger: Ledger) -> None:
    for run_id, model, prompt, reasons in UNGROUNDED:
        ledger.write(
            "INSERT INTO runs (run_id, workflow, version, status, started) VALUES (?,?,?,?,?)",
            (run_id, "document_analysis", "v", "completed", NOW),
        )
        note = {"grounding": {"grounded": reasons is None, "reasons": reasons or []}}
        ledger.write(
            "INSERT INTO steps (run_id, name, status, model, prompt, notes) VALUES (?,?,?,?,?,?)",
            (run_id, "entities", "completed", model, prompt, json.dumps(note)),
        )


def test_grounding_failures_are_counted_by_kind_of_reason(home: Path) -> None:
    from eightflow.observe.review_metrics import grounding_failures

    ledger = default_ledger()
    seed_grounding(ledger)
    found = grounding_failures(ledger)
    assert [(f["prompt"], f["reason"], f["count"]) for f in found] == [
        ("entities@v1", "entity … is not in the document", 2),
        ("entities@v2", "summary cites …, which the document does not", 1),
    ]
    assert found[0]["example"] == "entity 'Atlantis' is not in the document"
    assert grounding_failures(ledger, workflow="other") == []


def test_eightflow_report_lists_grounding_failures(home: Path) -> None:
    seed_grounding(default_ledger())
    shown = CliRunner().invoke(app, ["report"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert (
        "Grounding failures" in shown.output and "entity … is not in the document" in shown.output
    )
