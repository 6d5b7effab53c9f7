"""Attack: a reviewer's name, a note or a document id carrying markup. They reached the
``review-decisions`` artifact, the pause form's heading and ``report.md`` raw (an image
from ``evil.example`` came through), and rich markup in the name vanished in the terminal.

Each landing place is rendered twice, with a hostile string and with a plain one, by a
real CommonMark + table renderer: the HTML tags must be the same (no image, link, raw tag,
heading, code span or table cell more), and the terminal shows the string literally."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from eightflow.batch.models import BatchSummary
from eightflow.observe.report import render_outputs
from eightflow.review.decide import apply_to_results
from eightflow.review.render import decision_markdown, pending_table, request_markdown
from eightflow.safety.inert import console_text, csv_cell
from tests.security.test_review_ids_match_rows import save_review, write_results_tables

HOSTILE = [
    "![x](https://evil.example/x.png)",
    "[click](https://evil.example/login)",
    "<img src=https://evil.example/x.png onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<https://evil.example/auto>",
    "[ref]: https://evil.example/def",
    "a | b | c",
    "`code` and ``` a fence",
    "first line\n# a heading\n\n- a list item\n> a quote",
    "[bold]boss[/bold] [link=https://evil.example]x[/link]",
    '=HYPERLINK("https://evil.example","see")',
    "&lt;img src=x&gt; \\| back\\slash",
]
PLAIN = "plain"
_MD = MarkdownIt("commonmark").enable("table")


# Model text may span paragraphs and list items (``render_outputs``); nothing else may
# appear: no link, image, raw HTML, heading, quote, code or table cell more.
_LAYOUT = {"p", "/p", "ul", "/ul", "ol", "/ol", "li", "/li", "br"}


def _tags(markdown: str) -> list[str]:
    return [t for t in re.findall(r"<(/?[a-z0-9]+)", _MD.render(markdown)) if t not in _LAYOUT]


def _review_row(text: str) -> dict[str, Any]:
    return {
        "review_id": "0123456789ab", "run_id": "run-1", "document_id": text, "step": "summary",
        "output": "summary", "prompt": "summarization@v1", "model": "embedded/extractive",
        "proposed": {"text": text}, "reasons": [f"confidence 0.2 < 0.6 ({text})"],
        "actions": ["approve", "reject"], "editable": [], "timeout_seconds": 60,
        "on_timeout": "fail", "status": "rejected", "reviewer": text, "note": text,
        "edits": {"text": text}, "decided_via": "cli", "seconds_to_decide": 3,
        "link": "http://127.0.0.1:4200/runs/flow-run/1",
    }  # fmt: skip


def _batch_report(text: str) -> str:
    from eightflow_app.tasks.publishing import batch_report

    summary = BatchSummary(
        workflow="document_analysis", version="1", total=2, needs_review=[text],
        review_notes={text: ("0123456789ab", text)}, unprocessed=[text],
        errors=Counter({text: 1}),
    )  # fmt: skip
    return batch_report(summary)


def _decided_report(text: str, tmp_path: Path) -> str:
    out = tmp_path / f"out-{abs(hash(text))}"
    write_results_tables(out, ["doc.txt"])
    table = "| a | b | c | d |\n|---|---|---|---|\n"
    line = "| doc.txt | `0123456789ab` | low confidence | pending |"
    (out / "report.md").write_text(f"## Needs review\n\n{table}{line}\n")
    row = {**_review_row(text), "out_dir": str(out), "document_id": "doc.txt"}
    row.update(decision="reject", final="s")
    apply_to_results(row)
    report = (out / "report.md").read_text()
    assert "| rejected by " in report  # the decision landed
    return report


LANDINGS: dict[str, Callable[[str, Path], str]] = {
    "review-decisions artifact": lambda t, _: decision_markdown(_review_row(t)),
    "pause form heading and description": lambda t, _: request_markdown(_review_row(t)),
    "batch review list": lambda t, _: pending_table([_review_row(t)]),
    "report.md after a decision": _decided_report,
    "batch report.md": lambda t, _: _batch_report(t),
    "run report outputs": lambda t, _: render_outputs({"summary": t, "topics": [t, t]}),
}


@pytest.mark.parametrize("landing", list(LANDINGS))
@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_inert_where_it_lands(text: str, landing: str, tmp_path: Path) -> None:
    render = LANDINGS[landing]
    hostile, plain = render(text, tmp_path), render(PLAIN, tmp_path)
    assert _tags(hostile) == _tags(plain)
    html = _MD.render(hostile)
    assert "evil.example" not in re.sub(r">[^<]*<", "><", html)  # never inside a tag


@pytest.mark.parametrize("text", HOSTILE)
def test_a_csv_cell_never_starts_a_formula(text: str) -> None:
    assert not str(csv_cell(text)).startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("text", HOSTILE)
def test_the_terminal_shows_markup_literally(text: str) -> None:
    from rich.console import Console

    console = Console(width=400, record=True, color_system=None)
    console.print(f"[dim]{console_text(text)}[/dim]")
    assert console.export_text().rstrip("\n") == text


@pytest.mark.parametrize(
    "reviewer", ["[bold]boss[/bold]", "notes[/x][", "[link=https://evil.example]x[/link]"]
)
def test_review_decide_prints_the_reviewer_as_written(
    reviewer: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eightflow.cli.main import app
    from eightflow.store.ledger import default_ledger

    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")
    monkeypatch.setenv("COLUMNS", "400")
    out = home.parent / "out"
    write_results_tables(out, [reviewer])
    review_id = save_review(default_ledger(), out, reviewer)
    runner = CliRunner()
    listed = runner.invoke(app, ["review", "list"])
    assert listed.exit_code == 0 and reviewer in listed.output, listed.output
    args = ["review", "decide", review_id, "--reject", "--reviewer", reviewer]
    decided = runner.invoke(app, args)
    assert decided.exit_code == 0, decided.output
    assert f"rejected by {reviewer}" in decided.output


@pytest.mark.parametrize("text", ["[bold]batch_1[/bold]", "batch[/x][", "[red]x"])
def test_provider_batch_rows_print_as_written(
    text: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch id and model come from the provider's answer: shown, never parsed."""
    from eightflow.cli.main import app

    monkeypatch.setenv("COLUMNS", "400")
    row = {"batch_id": text, "wave": 1, "model": text, "state": "in_progress", "total": 3}
    monkeypatch.setattr(
        "eightflow.store.provider_batches.list_batches", lambda ledger, open_only: [row]
    )
    result = CliRunner().invoke(app, ["batches"])
    assert result.exit_code == 0, result.output
    assert text in result.output
