"""CSV and TSV files load as text (loader ``csv``), one row per line, with no title."""

from __future__ import annotations

from pathlib import Path

import pytest
from eightflow_app.tasks.loading import SUPPORTED_SUFFIXES, load_document

from eightflow.errors import DocumentError

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("prices.csv", b"item,price\r\ntea,2.50\r\ncoffee,3.10\r\n", "text/csv"),
        ("PRICES.CSV", b"item,price\ntea,2.50\ncoffee,3.10\n", "text/csv"),
        ("prices.tsv", b"item\tprice\ntea\t2.50\ncoffee\t3.10\n", "text/tab-separated-values"),
    ],
)
def test_delimited_files_load_as_text(
    tmp_path: Path, name: str, data: bytes, media_type: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    doc = load_document(path)
    assert doc.loader == "csv"
    assert doc.media_type == media_type
    assert doc.title is None  # the header row is not a title
    sep = "\t" if name.endswith(".tsv") else ","
    assert doc.text.splitlines() == [f"item{sep}price", f"tea{sep}2.50", f"coffee{sep}3.10"]


def test_suffixes_are_supported() -> None:
    assert {".csv", ".tsv"} <= set(SUPPORTED_SUFFIXES)


def test_latin1_csv_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "towns.csv"
    path.write_bytes("town,région\nSète,Occitanie\nNîmes,Occitanie\n".encode("latin-1"))
    assert "Sète" in load_document(path).text


def test_empty_or_binary_csv_fails_with_a_reason(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DocumentError, match="empty file"):
        load_document(empty)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"a,b\n\x00\x01\x02\x03")
    with pytest.raises(DocumentError, match="binary"):
        load_document(binary)


def test_the_triage_example_loads() -> None:
    doc = load_document(REPO / "examples" / "triage" / "coastal-station-readings.csv")
    assert doc.loader == "csv"
    assert doc.text.splitlines()[0] == "station,date,temperature_c,rainfall_mm,wind_kmh"
