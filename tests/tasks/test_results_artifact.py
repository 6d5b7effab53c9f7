"""The compact results artifact: short rows a person reads at 1,440 px."""

from __future__ import annotations

from typing import Any

import pytest
from eightflow_app.tasks.results_artifact import compact_rows, cut_at_word
from eightflow_app.tasks.results_table import ResultsTable


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short enough.", 80, "Short enough."),
        ("The board met twice in March to approve the budget", 20, "The board met twice…"),
        ("The board met, twice", 16, "The board met…"),  # no dangling comma
        ("Supercalifragilistic", 10, "Supercali…"),  # one word longer than the cell
        ("line one\nline two", 80, "line one line two"),
        (None, 10, ""),
    ],
)
def test_cut_at_word_never_cuts_mid_word(text: str | None, limit: int, expected: str) -> None:
    cut = cut_at_word(text, limit)
    assert cut == expected and len(cut) <= limit


def _row(doc: str, **values: Any) -> dict[str, Any]:
    base = {
        "id": doc,
        "status": "completed",
        "error": None,
        "summary": "Harbour Lane Holdings reported revenue of 1.2 million for the third quarter "
        "of 2024, up 3.5% on the year, and reopened the Dunmore plant in March.",
        "topics": "finance; manufacturing",
        "sentiment_label": "positive",
        "sentiment_score": 0.6,
        "entities": "Harbour Lane Holdings (organization)",
        "grounded": True,
        "tokens_in": 100,
        "tokens_out": 20,
        "cost_usd": 0.000123,
        "duration_ms": 5.0,
        "attempts": 5,
        "retries": 1,
        "cache_hit": False,
        "sentiment_confidence": 0.8123,
    }
    return {**base, **values}


def test_compact_rows_hold_what_a_person_reads() -> None:
    table = ResultsTable(
        [_row("a.txt"), _row("b.txt", status="failed", error="x " * 100, cost_usd=None)]
    )
    first, second = compact_rows(table.columns, table.rows)
    assert list(first) == [
        "id", "status", "summary", "topics", "confidence", "cost", "retries", "error"
    ]  # fmt: skip
    assert first["summary"].endswith("…") and len(first["summary"]) <= 70
    assert table.rows[0]["summary"].startswith(first["summary"][:-1])  # whole words only
    assert (first["confidence"], first["cost"], first["retries"]) == ("0.81", "$0.000123", 1)
    assert (second["cost"], len(second["error"]) <= 50) == ("unpriced", True)
    assert sum(len(str(v)) for v in first.values()) <= 220


@pytest.mark.parametrize(
    ("cell", "shown"),
    [("plain words", "plain words"), ("a | b", "a \\| b"), ("[x](http://e)", "[x\\](http://e)")],
)
def test_the_compact_markdown_is_one_escaped_table_of_the_compact_columns(
    cell: str, shown: str
) -> None:
    from eightflow_app.tasks.results_artifact import compact_markdown

    rows = compact_rows(ResultsTable([_row("a.txt")]).columns, ResultsTable([_row("a.txt")]).rows)
    rows[0]["error"] = cell
    lines = compact_markdown(rows, "Results, part 1").splitlines()
    assert lines[0] == "Results, part 1"
    assert lines[2] == "| id | status | summary | topics | confidence | cost | retries | error |"
    assert lines[4].startswith("| a.txt | completed |") and lines[4].endswith(f"| {shown} |")


def test_no_rows_say_so() -> None:
    from eightflow_app.tasks.results_artifact import compact_markdown

    assert "No documents." in compact_markdown([], "Results, part 1")
