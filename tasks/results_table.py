"""A batch's results table: the rows of ``results.csv`` and ``results.parquet``.

Why not pandas: this is the last thing every batch does, and importing pandas cost about
0.26 s here, a fifth of a 1,000-document re-run served from cache. The stdlib's ``csv``
module (which pandas itself writes with) and pyarrow (which ``to_parquet`` calls; it
imports in 0.08 s) write the same files. The Parquet table is built by Arrow's JSON
reader, because ``pyarrow.array`` on a Python list imports pandas to look for its types.

- Column order: the fixed :data:`RESULT_COLUMNS`, then a workflow's own columns in the order
  they first appear. Rows are sorted by id, ties in arrival order.
- CSV: formula-like text is escaped for spreadsheets (:func:`csv_cell`, decoded by
  :func:`csv_value` when the table is read back: one codec); a missing value is
  an empty cell, ``True``/``False`` are written as such, numbers as Python writes them.
  Unlike pandas, an integer column with a missing value stays integral (``3``, not ``3.0``).
- Parquet: the raw values. The fixed columns have declared types; a workflow's own column
  gets the type its cells share (text, integer, float, boolean), and a column of mixed kinds
  (text in one row, a number in another), lists or objects is written as text (JSON for
  lists and objects), so one odd cell never costs the batch its tables.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from typing import IO, Any

from eightflow.safety.inert import csv_cell, csv_value

# The fixed columns, with their Arrow type names (``pyarrow.type_for_alias``).
RESULT_TYPES: dict[str, str] = {
    "id": "string",
    "status": "string",
    "error": "string",
    "summary": "string",
    "topics": "string",
    "sentiment_label": "string",
    "sentiment_score": "double",
    "entities": "string",
    "grounded": "bool",  # answers found in the document; empty when nothing was checkable
    "tokens_in": "int64",
    "tokens_out": "int64",
    "cost_usd": "double",
    "duration_ms": "double",
    "attempts": "int64",
    "retries": "int64",  # attempts beyond each step's first, over the document's steps
    "cache_hit": "bool",
    "model": "string",  # the model that produced the row (on_budget may switch it)
    "mode": "string",  # direct | batch-api
}
RESULT_COLUMNS = list(RESULT_TYPES)


class ResultsTable:
    """Complete rows (every column present, a missing value ``None``), sorted by id."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        records = list(rows)
        seen = dict.fromkeys(RESULT_COLUMNS)
        for record in records:
            seen.update(dict.fromkeys(record))
        self.columns: list[str] = list(seen)
        self.rows: list[dict[str, Any]] = sorted(
            ({c: _missing_as_none(record.get(c)) for c in self.columns} for record in records),
            key=lambda row: str(row["id"]),
        )

    def __len__(self) -> int:
        return len(self.rows)

    def write_csv(self, fh: IO[str]) -> None:
        """``fh`` opened with ``newline=""``, as the csv module asks."""
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_csv_text(row[c]) for c in self.columns])

    def write_parquet(self, fh: IO[bytes]) -> None:
        """Through Arrow's JSON reader (``pyarrow.array`` on Python lists imports pandas),
        with every column's type given: the reader would take a date-like text for a
        timestamp."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {column: _arrow_type(column, self.rows) for column in self.columns}
        schema = pa.schema([(c, pa.type_for_alias(types[c])) for c in self.columns])
        if not self.rows:
            pq.write_table(schema.empty_table(), fh)
            return
        texts = {c for c in self.columns if types[c] == "string"}
        try:
            table = _read_json(self.rows, self.columns, schema, texts)
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
            # Cells the declared type cannot hold after all: the table as text, not lost.
            schema = pa.schema([(c, pa.string()) for c in self.columns])
            table = _read_json(self.rows, self.columns, schema, set(self.columns))
        pq.write_table(table.select(self.columns), fh)

    @classmethod
    def read(cls, path: Any) -> ResultsTable:
        """A table back from a ``results.parquet`` (raw values) or a ``results.csv``
        (text, but for the fixed columns' numbers and booleans; an empty cell is None)."""
        from pathlib import Path

        path = Path(path)
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return cls(pq.ParquetFile(path).read().to_pylist())  # read_table imports pandas
        with path.open(newline="", encoding="utf-8") as fh:
            return cls({k: _from_csv(k, v) for k, v in row.items()} for row in csv.DictReader(fh))


def _missing_as_none(value: Any) -> Any:
    # A NaN is how a missing number travels through JSON and pandas: here it is None, and
    # so is an infinite one (neither is a value JSON or a spreadsheet can hold).
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    return csv_cell(value)


_FITS = {
    "string": {"str"},
    "double": {"int", "float"},
    "int64": {"int"},
    "bool": {"bool"},
}
# The type of a column whose cells are all of these kinds (None aside).
_BY_KINDS = {
    frozenset({"str"}): "string",
    frozenset({"int"}): "int64",
    frozenset({"float"}): "double",
    frozenset({"int", "float"}): "double",
    frozenset({"bool"}): "bool",
}


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    kind = type(value)
    if kind is int and not -(2**63) <= value < 2**63:
        return "other"  # past 64 bits: Arrow would make it an approximate double
    if kind in (str, bool, int, float):
        return kind.__name__
    return "other"  # lists, objects: written as JSON text


def _arrow_type(column: str, rows: list[dict[str, Any]]) -> str:
    """The fixed type when the cells fit it, else the one they share, else text."""
    kinds = frozenset(_kind(row[column]) for row in rows) - {"none"}
    fixed = RESULT_TYPES.get(column)
    if fixed is not None and kinds <= _FITS[fixed]:
        return fixed
    return _BY_KINDS.get(kinds, "string")


def _read_json(rows: list[dict[str, Any]], columns: list[str], schema: Any, texts: set[str]) -> Any:
    import pyarrow.json as pa_json

    lines = []
    for row in rows:
        record = {c: _as_text(row[c]) if c in texts else row[c] for c in columns}
        lines.append(json.dumps(record, ensure_ascii=False, default=str, allow_nan=False))
    data = "\n".join(lines).encode("utf-8")
    # A block must hold the longest line (the default, 1 MiB, is less than a long summary).
    longest = max(len(line.encode("utf-8")) for line in lines)
    return pa_json.read_json(
        io.BytesIO(data),
        read_options=pa_json.ReadOptions(block_size=max(1 << 20, 2 * longest + 1024)),
        parse_options=pa_json.ParseOptions(explicit_schema=schema),
    )


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _from_csv(column: str, text: str | None) -> Any:
    """A results.csv cell back as the value it was written from (the fixed columns)."""
    if text is None or text == "":
        return None
    text = csv_value(text)
    kind = RESULT_TYPES.get(column)
    try:
        if kind == "int64":
            return int(text)
        if kind == "double":
            return float(text)
    except ValueError:
        return text
    if kind == "bool" and text in ("True", "False"):
        return text == "True"
    return text
