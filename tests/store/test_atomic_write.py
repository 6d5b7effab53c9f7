"""Files written whole or not at all, and never over a file the caller would not replace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eightflow.store.atomic_write import FileExistsRefused, atomic_write


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("mode", ["w", "wb"])
def test_atomic_write_replaces_the_target(tmp_path: Path, mode: str) -> None:
    target = tmp_path / "sub" / "file.txt"
    target.parent.mkdir()
    target.write_text("old")
    with atomic_write(target, mode) as fh:
        fh.write("new" if mode == "w" else b"new")
    assert target.read_text() == "new"
    assert os.listdir(target.parent) == ["file.txt"]
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_atomic_write_leaves_target_and_no_temp_file_on_error(
    tmp_path: Path, error: BaseException
) -> None:
    target = tmp_path / "results.csv"
    target.write_text("old,complete\n")
    with pytest.raises(type(error)), atomic_write(target) as fh:
        fh.write("half of a new fi")
        raise error
    assert target.read_text() == "old,complete\n"
    assert os.listdir(tmp_path) == ["results.csv"]


def test_atomic_write_of_a_new_file_leaves_nothing_on_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError), atomic_write(tmp_path / "report.md") as fh:
        fh.write("# half")
        raise ValueError("stop")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("appears", ["file", "link", None])
def test_without_replace_a_name_taken_while_writing_is_refused(
    tmp_path: Path, appears: str | None
) -> None:
    """The check and the write are one step: a file (or link) that appears at the name
    while the new one is being written is left as it is, and no temp file is left."""
    target = tmp_path / "labelled.csv"
    try:
        with atomic_write(target, replace=False) as fh:
            fh.write("new")
            if appears == "file":
                target.write_text("someone else's")
            elif appears == "link":
                target.symlink_to(tmp_path / "elsewhere")
        refused = False
    except FileExistsRefused:
        refused = True
    assert refused == (appears is not None)
    assert os.listdir(tmp_path) == ["labelled.csv"]
    expected = {"file": "someone else's", None: "new"}
    if appears == "link":
        assert target.is_symlink()
    else:
        assert target.read_text() == expected[appears]


@pytest.mark.parametrize("existing", ["file", "link"])
def test_the_refusal_names_the_file_and_keeps_it(tmp_path: Path, existing: str) -> None:
    target = tmp_path / "labelled.csv"
    if existing == "file":
        target.write_text("kept")
    else:
        target.symlink_to(tmp_path / "elsewhere")
    refused = pytest.raises(FileExistsRefused, match=rf"^{target}: already exists")
    with refused, atomic_write(target, replace=False) as fh:
        fh.write("new")
    assert os.listdir(tmp_path) == ["labelled.csv"]
    if existing == "file":
        assert target.read_text() == "kept"
    else:
        assert target.is_symlink()
