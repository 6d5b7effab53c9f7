"""A batch's results table: the rows of ``results.csv`` and ``results.parquet``.

Why not pandas: this is the last thing every batch does, and importing pandas cost about
0.26 s here, a fifth of a 1,000-document re-run served from cache. The stdlib's ``csv``
module (which pandas itself writes with) and pyarrow (which ``to_parquet`` calls; it
imports in 0.08 s) write the same files. The Parquet table is built by Arrow's JSON
reader, because ``pyarrow.array`` on a Python list imports pandas to look for its types.

- Column order: the fixed :data:`RESULT_COLUMNS`, then a workflow's own columns in the order
  they first appear. Rows are sorted by id, ties in arrival order.
- CSV: formula-like text is escaped for spreadsheets (:func:`csv_cell`); a missing value is
  an empty cell, ``True``/``False`` are written as such, numbers as Python writes them.
  Unlike pandas, an integer column with a missing value stays integral (``3``, not ``3.0``).
- Parquet: the raw values. The fixed columns have declared types; a workflow's own column
  gets the type Arrow infers, and a column whose cells Arrow cannot type together (text in
  one row, a number in another) is written as text, so one odd cell never costs the batch
  its tables.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from typing import IO, Any

from eightflow.observe.inert import csv_cell

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
    "tokens_in": "int64",
    "tokens_out": "int64",
    "cost_usd": "double",
    "duration_ms": "double",
    "attempts": "int64",
    "cache_hit": "bool",
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
        """Through Arrow's JSON reader: ``pyarrow.array`` on Python lists imports pandas."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        declared: dict[str, str] = {}
        texts: set[str] = set()
        for column in self.columns:
            kinds = {_kind(row[column]) for row in self.rows} - {"none"}
            fixed = RESULT_TYPES.get(column)
            if fixed is not None and kinds <= _FITS[fixed]:
                declared[column] = fixed
            elif "other" in kinds or (len(kinds) > 1 and not kinds <= {"int", "float"}):
                texts.add(column)  # cells of different kinds (text, then a number): text
        if not self.rows:
            table = pa.schema(
                [(c, pa.type_for_alias(declared.get(c, "string"))) for c in self.columns]
            ).empty_table()
        else:
            table = _arrow_table(self.rows, self.columns, declared, texts)
        pq.write_table(table.select(self.columns), fh)

    @classmethod
    def read(cls, path: Any) -> ResultsTable:
        """A table back from a ``results.parquet`` (raw values) or a ``results.csv``."""
        from pathlib import Path

        path = Path(path)
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return cls(pq.ParquetFile(path).read().to_pylist())  # read_table imports pandas
        import pyarrow.csv as pacsv

        return cls(pacsv.read_csv(path).to_pylist())


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


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    kind = type(value)
    if kind is int and not -(2**63) <= value < 2**63:
        return "other"  # past 64 bits: Arrow would make it an approximate double
    if kind in (str, bool, int, float):
        return kind.__name__
    return "nested" if kind in (dict, list) else "other"


def _arrow_table(
    rows: list[dict[str, Any]], columns: list[str], declared: dict[str, str], texts: set[str]
) -> Any:
    """The rows as an Arrow table, typed as declared, the rest inferred by Arrow.

    If Arrow cannot type a nested column (lists or objects whose items differ), the nested
    columns are written as JSON text instead; failing that, every column is text.
    """
    import pyarrow as pa

    nested = {c for c in columns if any(_kind(row[c]) in ("nested", "other") for row in rows)}
    try:
        return _read_json(rows, columns, declared, texts)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    try:
        return _read_json(rows, columns, declared, texts | nested)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Say a number past 64 bits: every column as text reads, whatever the cells hold.
        return _read_json(rows, columns, {}, set(columns))


def _read_json(
    rows: list[dict[str, Any]], columns: list[str], declared: dict[str, str], as_text: set[str]
) -> Any:
    import pyarrow as pa
    import pyarrow.json as pa_json

    lines = []
    for row in rows:
        record = {c: _as_text(row[c]) if c in as_text else row[c] for c in columns}
        lines.append(json.dumps(record, ensure_ascii=False, default=str, allow_nan=False))
    schema = pa.schema(
        [(c, pa.type_for_alias(t)) for c, t in declared.items()]
        + [(c, pa.string()) for c in columns if c in as_text and c not in declared]
    )
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    data = io.BytesIO("\n".join(lines).encode("utf-8"))
    return pa_json.read_json(data, parse_options=options)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
