"""People's decisions are visible: the CLI, a run's report and ``eightflow report`` say
who decided what and when, and a run's total counts the wait for them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from eightflow.review.people import (
    decision_line,
    decisions_of_run,
    fmt_duration,
    people_markdown,
    total_line,
    waited_seconds,
)
from eightflow.review.requests import ReviewRequest
from eightflow.review.store import record_decision, save_pending


def _ask(run_id: str, step: str, waited_s: float, document: str = "a.md") -> str:
    request = ReviewRequest(
        run_id=run_id,
        workflow="document_analysis",
        document_id=document,
        step=step,
        rule=f"{step}_rule",
        output=step,
        proposed={"label": "neutral"},
        created=datetime.now(UTC) - timedelta(seconds=waited_s),
    )
    save_pending(request)
    return request.review_id


@pytest.fixture
def decided(home: Path) -> dict[str, Any]:
    """A run whose sentiment ana edited in the UI after 158 s, and whose entities bo
    approved from the shell after 2 s."""
    first = _ask("run-1", "sentiment", 158)
    record_decision(first, decision="edit", reviewer="ana", edits={"label": "negative"},
                    note="a FAQ is factual", final={"label": "negative"}, via="ui")  # fmt: skip
    second = _ask("run-1", "entities", 2)
    record_decision(second, decision="approve", reviewer="bo", edits={}, note="", final={},
                    via="cli")  # fmt: skip
    _ask("run-2", "sentiment", 1)  # still pending: not a decision
    return {"rows": decisions_of_run("run-1")}


def test_a_runs_decisions_in_the_order_made(decided: dict[str, Any]) -> None:
    rows = decided["rows"]
    assert [(r["step"], r["status"], r["reviewer"]) for r in rows] == [
        ("sentiment", "edited", "ana"),
        ("entities", "approved", "bo"),
    ]
    assert decisions_of_run("run-2") == []
    assert 159 < waited_seconds(rows) < 170


def test_each_decision_reads_as_a_sentence(decided: dict[str, Any]) -> None:
    first, second = map(decision_line, decided["rows"])
    assert first.startswith("sentiment: edited by ana in the UI at 20")
    assert first.endswith("UTC (label=negative); note: a FAQ is factual")
    assert second.startswith("entities: approved by bo from the shell at ")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"step": "s", "status": "timed_out_approved", "decided_via": "timeout"},
         "s: approved by nobody (timeout)"),
        ({"step": "s", "status": "rejected", "reviewer": "cy", "decided_via": "ui",
          "note": "wrong"}, "s: rejected by cy in the UI; note: wrong"),
    ],
)  # fmt: skip
def test_timeouts_and_rejections_say_so(row: dict[str, Any], expected: str) -> None:
    assert decision_line(row) == expected


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(3.734, "3.73 s"), (59.994, "59.99 s"), (161, "2 min 41 s"), (3720, "1 h 02 min")],
)
def test_durations_read_like_people_say_them(seconds: float, shown: str) -> None:
    assert fmt_duration(seconds) == shown


@pytest.mark.parametrize(
    ("duration", "wall", "waited", "shown"),
    [
        (3.73, None, 0, "3.73 s"),
        (3.73, 161, 158, "2 min 41 s, of which 2 min 38 s waiting for review"),
        (3.73, 4.0, 0, "3.73 s"),
    ],
)
def test_the_total_counts_the_wait(
    duration: float, wall: float | None, waited: float, shown: str
) -> None:
    assert total_line(duration, wall, waited) == shown


def test_the_cli_prints_who_decided_and_the_wall_time(decided: dict[str, Any]) -> None:
    from eightflow.cli.render import print_result
    from eightflow.runtime.records import WorkflowResult

    now = datetime.now(UTC)
    result = WorkflowResult(
        run_id="run-1",
        workflow="document_analysis",
        version="v",
        status="completed",
        started=now,
        finished=now,
        duration_ms=3730,
    )
    console = Console(record=True, width=200)
    print_result(result, console, decisions=decided["rows"], wall_s=170.0)
    text = console.export_text()
    assert "Decided by people" in text and "sentiment: edited by ana in the UI" in text
    assert "total: 2 min 50 s, of which 2 min 40 s waiting for review" in text


def test_the_run_report_lists_the_decisions_escaped(decided: dict[str, Any]) -> None:
    rows = [*decided["rows"], {**decided["rows"][0], "note": "see [x](http://e) | `y`"}]
    markdown = people_markdown(rows)
    assert "## Decided by people" in markdown and "edited by ana" in markdown
    assert "[x](http" not in markdown and "\\|" in markdown
    assert people_markdown([]) == ""


@pytest.mark.parametrize(
    "note",
    ["fine\n\n---\nnew section", "ok\n> quoted as if by someone", "a\n\n    indented code"],
)
def test_a_note_with_newlines_stays_inside_its_list_item(
    decided: dict[str, Any], note: str
) -> None:
    markdown = people_markdown([{**decided["rows"][0], "note": note}])
    [item] = [line for line in markdown.splitlines() if line.strip()][1:]
    assert item.startswith("- sentiment: edited by ana")


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_eightflow_report_shows_people_decisions(decided: dict[str, Any], fmt: str) -> None:
    from eightflow.cli.main import app

    shown = CliRunner().invoke(app, ["report", "--format", fmt], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    if fmt == "json":
        report = json.loads(shown.stdout)
        assert [d["reviewer"] for d in report["decisions"]] == ["bo", "ana"]
    else:
        assert "Decided by people" in shown.output
        assert "ana in the UI" in shown.output and "bo from the shell" in shown.output
