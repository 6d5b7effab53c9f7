"""results.csv and results.parquet written without pandas: the same files pandas wrote.

pandas is the reference here (it stays a dependency for the review edge): for rows pandas
types the same way, the CSV must be byte for byte what ``DataFrame.to_csv`` wrote, and the
Parquet must read back to the same values with the declared types.
"""

from __future__ import annotations

import io
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from eightflow_app.tasks.results_table import RESULT_COLUMNS, ResultsTable
from pandas.api.types import is_object_dtype, is_string_dtype

from eightflow.safety.inert import csv_cell


def _row(doc_id: str, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": doc_id,
        "status": "completed",
        "error": None,
        "summary": f"Summary of {doc_id}.",
        "topics": "a; b",
        "sentiment_label": "positive",
        "sentiment_score": 0.75,
        "entities": "Acme (org)",
        "tokens_in": 120,
        "tokens_out": 30,
        "cost_usd": 0.003,
        "duration_ms": 12.5,
        "attempts": 1,
        "cache_hit": False,
    }
    return {**base, **values}


ROWS = [
    _row("b.txt", summary='He said "hi", then left.\nNew line.', cost_usd=1e-05),
    _row("a.txt", summary="=HYPERLINK(\"http://x\")", topics="+1; -2; @me", cache_hit=True),
    _row("c.txt", status="failed", error="empty file (0 bytes)", summary=None, topics=None,
         sentiment_label=None, sentiment_score=None, entities=None, cost_usd=0.0),
    _row("a.txt", summary="second a, arrived later", sentiment_score=0.30000000000000004),
    _row("é-ü.md", summary="naïve café — ünïcode, with a comma", extra_note="kept", score=3.5),
    _row("d.txt", sentiment_confidence=0.5, extra_note="\tindented"),
]  # fmt: skip


def _pandas_csv(rows: list[dict[str, Any]]) -> str:
    """What the writer produced with pandas before (ResultsWriter.close + csv_frame)."""
    frame = pd.DataFrame(rows)
    for column in RESULT_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    extra = [c for c in frame.columns if c not in RESULT_COLUMNS]
    frame = frame[RESULT_COLUMNS + extra].sort_values("id", kind="stable")
    for column in frame.columns:
        if is_object_dtype(frame[column]) or is_string_dtype(frame[column]):
            frame[column] = frame[column].map(csv_cell)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def _csv(table: ResultsTable) -> str:
    buffer = io.StringIO(newline="")
    table.write_csv(buffer)
    return buffer.getvalue()


def _parquet(table: ResultsTable, tmp_path: Path) -> Path:
    path = tmp_path / "results.parquet"
    with path.open("wb") as fh:
        table.write_parquet(fh)
    return path


def test_csv_is_what_pandas_wrote() -> None:
    assert _csv(ResultsTable(ROWS)) == _pandas_csv(ROWS)


def test_columns_fixed_first_then_the_workflows_own_in_arrival_order() -> None:
    table = ResultsTable(ROWS)
    assert table.columns == [*RESULT_COLUMNS, "extra_note", "score", "sentiment_confidence"]
    assert [row["id"] for row in table.rows] == ["a.txt", "a.txt", "b.txt", "c.txt", "d.txt",
                                                 "é-ü.md"]  # fmt: skip
    # Ties keep their arrival order.
    assert table.rows[0]["summary"].startswith("=HYPERLINK")


def test_parquet_reads_back_raw_values_with_declared_types(tmp_path: Path) -> None:
    frame = pd.read_parquet(_parquet(ResultsTable(ROWS), tmp_path))
    assert list(frame.columns) == ResultsTable(ROWS).columns
    assert frame["tokens_in"].dtype == "int64" and frame["attempts"].dtype == "int64"
    assert frame["cost_usd"].dtype == "float64" and frame["cache_hit"].dtype == "bool"
    # Raw, not escaped for spreadsheets.
    assert frame.loc[0, "summary"] == '=HYPERLINK("http://x")'
    assert frame.loc[3, "error"] == "empty file (0 bytes)" and pd.isna(frame.loc[3, "summary"])
    assert frame["cost_usd"].tolist()[2] == 1e-05


def test_an_integer_column_with_a_gap_stays_integral(tmp_path: Path) -> None:
    table = ResultsTable([_row("a", pages=3), _row("b")])
    assert _csv(table).splitlines()[1].endswith(",3") and _csv(table).splitlines()[2].endswith(",")
    assert ResultsTable.read(_parquet(table, tmp_path)).rows[0]["pages"] == 3


@pytest.mark.parametrize(
    ("column", "values", "parquet_values"),
    [
        # A workflow's column with text in one row and a number in another: text.
        ("label", ["x", 3], ["x", "3"]),
        ("label", [{"k": 1}, "y"], ['{"k": 1}', "y"]),
        # A fixed column holding what its declared type cannot: Arrow's own type, else text.
        ("summary", [{"k": 1}, {"k": 2}], ['{"k": 1}', '{"k": 2}']),
        # Objects and lists are JSON text; a NaN inside one is JSON's NaN.
        ("label", [{"x": float("nan")}, None], ['{"x": NaN}', None]),
        # Date-like text stays text (Arrow's JSON reader would make it a timestamp).
        ("due", ["2024-03-01", "2024-03-02 10:00:00"], ["2024-03-01", "2024-03-02 10:00:00"]),
        ("flag", [True, None], [True, None]),
        ("tokens_in", ["many", 3], ["many", "3"]),
        ("cost_usd", [float("nan"), 0.5], [None, 0.5]),
        ("cost_usd", [float("inf"), -float("inf")], [None, None]),
        # Lists Arrow cannot type together: JSON text.
        ("label", [[1, "a"], [2]], ['[1, "a"]', "[2]"]),
        # A number past 64 bits: text, not a double that is not quite it.
        ("label", [2**70, 1], [str(2**70), "1"]),
        ("tokens_in", [2**64, 2], [str(2**64), "2"]),
    ],
)
def test_odd_cells_never_cost_the_tables(
    tmp_path: Path, column: str, values: list[Any], parquet_values: list[Any]
) -> None:
    table = ResultsTable([_row(f"d{i}", **{column: v}) for i, v in enumerate(values)])
    back = ResultsTable.read(_parquet(table, tmp_path))
    assert [row[column] for row in back.rows] == parquet_values
    assert len(_csv(table).splitlines()) == 1 + len(values)


def test_a_missing_number_is_none_everywhere(tmp_path: Path) -> None:
    table = ResultsTable([_row("a", cost_usd=math.nan)])
    assert table.rows[0]["cost_usd"] is None
    assert ",,12.5," in _csv(table).splitlines()[1]


def test_no_rows_is_a_header_and_an_empty_typed_table(tmp_path: Path) -> None:
    table = ResultsTable([])
    assert _csv(table) == ",".join(RESULT_COLUMNS) + "\n"
    frame = pd.read_parquet(_parquet(table, tmp_path))
    assert list(frame.columns) == RESULT_COLUMNS and len(frame) == 0
    assert frame["tokens_in"].dtype == "int64"


def test_read_back_from_csv_when_there_is_no_parquet(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        ResultsTable(ROWS[:3]).write_csv(fh)
    back = ResultsTable.read(path)
    assert [row["id"] for row in back.rows] == ["a.txt", "b.txt", "c.txt"]
    assert back.rows[0]["tokens_in"] == 120 and back.rows[0]["cache_hit"] is True


def test_writing_and_reading_the_tables_never_imports_pandas(tmp_path: Path) -> None:
    script = f"""
import sys
from pathlib import Path
from eightflow_app.tasks.results_table import ResultsTable
rows = [{{"id": "a", "tokens_in": 1, "label": "x", "nested": {{"k": [1]}}}}, {{"id": "b"}}]
out = Path({str(tmp_path)!r})
with (out / "results.csv").open("w", newline="") as fh:
    ResultsTable(rows).write_csv(fh)
with (out / "results.parquet").open("wb") as fh:
    ResultsTable(rows).write_parquet(fh)
ResultsTable.read(out / "results.parquet")
ResultsTable.read(out / "results.csv")
assert "pandas" not in sys.modules, "pandas was imported"
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_row_longer_than_a_read_block_is_written(tmp_path: Path) -> None:
    table = ResultsTable([_row("a", summary="x" * (3 << 20)), _row("b")])
    back = ResultsTable.read(_parquet(table, tmp_path))
    assert len(back.rows[0]["summary"]) == 3 << 20 and back.rows[1]["summary"] == "Summary of b."


def test_grounded_is_a_boolean_column_empty_when_nothing_was_checked(tmp_path: Path) -> None:
    rows = [_row("a", grounded=True), _row("b", grounded=False), _row("c", grounded=None)]
    table = ResultsTable(rows)
    import csv

    cells = list(csv.DictReader(io.StringIO(_csv(table))))
    assert [c["grounded"] for c in cells] == ["True", "False", ""]
    import pyarrow.parquet as pq

    parquet = pq.read_table(_parquet(table, tmp_path))
    assert str(parquet.schema.field("grounded").type) == "bool"
    assert parquet.column("grounded").to_pylist() == [True, False, None]
