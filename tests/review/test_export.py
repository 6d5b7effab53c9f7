"""People's decisions feed quality: ``eightflow review export`` writes a batch's decided
reviews as a labelled CSV, and ``eightflow eval`` scores a prompt on it (round trip)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eightflow.cli.main import app
from eightflow.errors import WorkflowError
from eightflow.evaluation.csv_kinds import load_dataset
from eightflow.registry import load_workflow
from eightflow.review.export import expected_cell, export_labelled

pytestmark = pytest.mark.prefect  # the batch runs against the session's Prefect API

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "documents"
DOCS = ["grant-award-notice.txt", "harbour-lane-q3-results.txt", "supplier-complaint-letter.txt"]


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A batch whose three sentiments all wait for people: one approved, one edited, one
    rejected, from the shell (the same door as the UI's form)."""
    import asyncio

    from eightflow_app.flows.batch_documents import BatchParams, batch_documents

    from eightflow.registry import load_workflow
    from eightflow.review.decide import decide
    from eightflow.review.store import list_reviews

    root = tmp_path_factory.mktemp("export")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("EIGHTFLOW_HOME", str(root / "home"))
    folder, out = root / "docs", root / "out"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(EXAMPLES / name, folder / name)
    params = BatchParams(folder=str(folder), out=str(out), review_below=1.0)
    state = asyncio.run(batch_documents(**params.flow_parameters(), return_state=True))
    assert state.is_completed(), state.message
    pending = {r["document_id"]: r for r in list_reviews("pending") if r["output"] == "sentiment"}
    assert sorted(pending) == sorted(DOCS)
    labels = {}
    for name, decision in zip(DOCS, ("approve", "edit", "reject"), strict=True):
        row = pending[name]
        edits = {"label": "negative" if row["proposed"]["label"] != "negative" else "positive"}
        decide(
            row["review_id"],
            decision,
            edits=edits if decision == "edit" else {},
            note="checked",
            reviewer="ana",
            loader=load_workflow,
        )
        labels[name] = edits["label"] if decision == "edit" else row["proposed"]["label"]
    try:
        yield {"out": out, "root": root, "labels": labels, "folder": folder}
    finally:
        monkeypatch.undo()


def test_export_writes_the_approved_and_edited_labels(decided: dict[str, Any]) -> None:
    target = decided["root"] / "labelled.csv"
    summary = export_labelled(decided["out"], target, loader=load_workflow)
    assert (summary.written, dict(summary.skipped)) == (2, {"rejected": 1})
    task, rows = load_dataset(target)  # what `eightflow eval` reads
    assert task == "sentiment"
    texts = {n: (decided["folder"] / n).read_text(encoding="utf-8") for n in DOCS[:2]}
    got = {label for _, label in rows}
    assert got == {decided["labels"][DOCS[0]], decided["labels"][DOCS[1]]}
    for name, text in texts.items():
        first_line = text.strip().splitlines()[0].strip()
        assert any(first_line in written for written, _ in rows), name


def test_eval_scores_a_prompt_on_the_exported_set(decided: dict[str, Any]) -> None:
    target = decided["root"] / "labelled-cli.csv"
    runner = CliRunner()
    exported = runner.invoke(app, ["review", "export", str(decided["out"]), "-o", str(target)])
    assert exported.exit_code == 0, exported.output
    assert "2 labelled sentiment rows" in exported.output and "1 rejected" in exported.output
    scored = runner.invoke(app, ["eval", "document_analysis", str(target), "--json"])
    assert scored.exit_code == 0, scored.output
    result = json.loads(scored.output[scored.output.index("{") :])
    assert result["task"] == "sentiment" and result["rows"] == 2


@pytest.mark.parametrize(
    ("where", "problem"),
    [("nowhere", "no results.csv"), ("docs", "no results.csv")],
)
def test_a_folder_that_is_not_a_batchs_results_is_refused_by_name(
    decided: dict[str, Any], where: str, problem: str
) -> None:
    with pytest.raises(WorkflowError, match=problem):
        export_labelled(decided["root"] / where, decided["root"] / "x.csv", loader=load_workflow)


def test_entities_without_decisions_say_so(decided: dict[str, Any]) -> None:
    with pytest.raises(WorkflowError, match="no decided entities reviews"):
        export_labelled(
            decided["out"], decided["root"] / "e.csv", kind="entities", loader=load_workflow
        )


@pytest.mark.parametrize(
    ("kind", "final", "expected"),
    [
        ("sentiment", {"label": "positive", "score": 0.4}, "positive"),
        ("sentiment", {"score": 0.4}, None),
        ("sentiment", "not a dict", None),
        (
            "entities",
            {"entities": [{"text": "Ana", "type": "PERSON"}, {"text": "Oslo", "type": "GPE"}]},
            "Ana|PERSON;Oslo|GPE",
        ),
        (
            "entities",
            {"entities": [{"text": "AT&T | Bell; Labs", "type": "organization"}]},
            "AT&T \\| Bell\\; Labs|organization",
        ),
        ("entities", {"entities": []}, ""),
        ("entities", {"entities": "x"}, None),
    ],
)
def test_the_expected_cell_of_a_decided_output(kind: str, final: Any, expected: str | None) -> None:
    assert expected_cell(kind, final) == expected


def test_the_written_csv_has_the_kinds_header(decided: dict[str, Any]) -> None:
    target = decided["root"] / "header.csv"
    export_labelled(decided["out"], target, loader=load_workflow)
    with target.open(encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == ["text", "label"]


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x.example","open")', "+1+1", "-2", "@SUM(A1)", "'=quoted", "plain"],
)
def test_a_formula_in_a_document_is_inert_in_the_csv_and_reads_back_whole(
    tmp_path: Path, text: str
) -> None:
    from eightflow.review.export import _write

    target = tmp_path / "labelled.csv"
    _write(target, ("text", "label"), [(text, "positive")])
    with target.open(encoding="utf-8", newline="") as handle:
        cell = list(csv.reader(handle))[1][0]
    assert not cell.startswith(("=", "+", "-", "@"))
    assert load_dataset(target)[1] == [(text, "positive")]


@pytest.mark.parametrize(
    "text",
    [
        "AT&T | Bell Labs", "Smith; Jones", "back\\slash\\", 'The "Quoted" Ltd',
        "line one\nline two", "=SUM(A1)", "+44 20 7946", "-minus", "@handle",
        "Zürich–Genève 東京", "|;|",
    ],
)  # fmt: skip
def test_an_exported_entity_reads_back_in_eval_as_written(tmp_path: Path, text: str) -> None:
    """One codec on both sides: the cell export writes is the pair eval scores against."""
    from eightflow.evaluation import normalize_entity
    from eightflow.review.export import _write

    final = {"entities": [{"text": text, "type": "organization"},
                          {"text": "Oslo", "type": "place"}]}  # fmt: skip
    cell = expected_cell("entities", final)
    assert cell is not None
    target = tmp_path / "entities.csv"
    _write(target, ("text", "expected_entities"), [("a document", cell)])
    task, rows = load_dataset(target)
    assert task == "entities"
    assert rows == [("a document", sorted({(normalize_entity(text), "organization"),
                                           ("oslo", "place")}))]  # fmt: skip


def test_an_existing_file_is_refused_by_name_unless_forced(decided: dict[str, Any]) -> None:
    target = decided["root"] / "kept.csv"
    target.write_text("someone's own file\n", encoding="utf-8")
    runner = CliRunner()
    args = ["review", "export", str(decided["out"]), "-o", str(target)]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [
        f"error: {target}: already exists; pass --force to replace it"
    ]
    assert target.read_text(encoding="utf-8") == "someone's own file\n"
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert load_dataset(target)[0] == "sentiment"
    assert sorted(p.name for p in target.parent.glob(".kept.csv*")) == []  # no temp left
