"""Shards of a batch: every document in exactly one, and a shard counts its own share only."""

from __future__ import annotations

from pathlib import Path

import pytest

from eightflow.batch.runner import document_id, in_shard


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_every_document_is_in_exactly_one_shard(tmp_path: Path, count: int) -> None:
    paths = [tmp_path / "sub" / f"doc-{i:03d}.txt" for i in range(60)]
    shards = [list(in_shard(paths, tmp_path, index, count)) for index in range(count)]
    assert sorted(p for shard in shards for p in shard) == sorted(paths)
    assert sum(len(shard) for shard in shards) == len(paths)  # none in two shards
    if count > 1:
        assert all(0 < len(shard) < len(paths) for shard in shards)  # the hash spreads them


@pytest.mark.parametrize(
    ("path", "expected"),
    [("sub/a.txt", "sub/a.txt"), ("a.txt", "a.txt")],
)
def test_a_documents_id_is_its_path_under_the_folder(
    tmp_path: Path, path: str, expected: str
) -> None:
    assert document_id(tmp_path / path, tmp_path) == expected
    assert document_id(Path("/elsewhere") / path, tmp_path) == Path(path).name
