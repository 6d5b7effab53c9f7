"""Shared ground for the path attacks: roots the operator allowed, and a folder outside."""

from __future__ import annotations

from pathlib import Path

import pytest

SECRET_LINE = "root:x:0:0:the-worker's-private-file"


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A data root, an output root and a folder outside both holding a private file;
    EIGHTFLOW_DATA_ROOTS and EIGHTFLOW_OUT_ROOT point at the roots, with a private home."""
    data, outside, out_root = tmp_path / "data", tmp_path / "outside", tmp_path / "outputs"
    for folder in (data, outside, out_root):
        folder.mkdir()
    (outside / "private.txt").write_text(SECRET_LINE + "\n")
    monkeypatch.setenv("EIGHTFLOW_DATA_ROOTS", str(data))
    monkeypatch.setenv("EIGHTFLOW_OUT_ROOT", str(out_root))
    monkeypatch.setenv("EIGHTFLOW_HOME", str(tmp_path / "home"))
    return {"data": data, "outside": outside, "out_root": out_root, "home": tmp_path / "home"}
