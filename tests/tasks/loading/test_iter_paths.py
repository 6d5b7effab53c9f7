"""iter_document_paths: order, filters, recursion, skipped names, links, laziness, errors."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from eightflow_app.tasks.loading import iter_document_paths

from eightflow.errors import DocumentError

TREE = [
    "b.txt",
    "a.txt",
    "a-b.txt",
    "Z.md",
    "é.md",
    "a/x.txt",
    "a/b/y.pdf",
    "a/b/c/deep.docx",
    "docs/readme.md",
    "docs/guide/intro.md",
    "drafts/wip.md",
    "drafts/old/notes.txt",
    "img/logo.png",
]
SKIPPED = [
    ".hidden.txt",
    ".git/config",
    ".git/objects/ab/cdef",
    "__pycache__/mod.cpython-311.pyc",
    "docs/.DS_Store",
    "Thumbs.db",
    "docs/~$report.docx",
    "a/.cache/x.txt",
]


def make_tree(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def relative(root: Path, paths: Iterator[Path]) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    make_tree(tmp_path, TREE + SKIPPED)
    return tmp_path


def test_order_is_sorted_relative_posix_path(tree: Path) -> None:
    found = relative(tree, iter_document_paths(tree))
    assert found == sorted(TREE)
    # Code-point order of whole paths: "-" < "." < "/" < uppercase < lowercase < accented,
    # so a directory's files do not simply follow its name (a.txt sits between a-b and a/).
    assert found.index("a-b.txt") < found.index("a.txt") < found.index("a/x.txt")
    assert found[0] == "Z.md" and found[-1] == "é.md"


def test_skips_hidden_and_junk(tree: Path) -> None:
    found = set(relative(tree, iter_document_paths(tree)))
    assert found.isdisjoint(SKIPPED)


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        (
            ["*.md"],
            None,
            ["Z.md", "docs/guide/intro.md", "docs/readme.md", "drafts/wip.md", "é.md"],
        ),
        (["*.pdf", "*.docx"], None, ["a/b/c/deep.docx", "a/b/y.pdf"]),
        (["docs/**/*.md"], None, ["docs/guide/intro.md", "docs/readme.md"]),
        (["**/*.md"], ["drafts/*", "docs/*"], ["Z.md", "é.md"]),
        (["a/*"], ["*.pdf"], ["a/b/c/deep.docx", "a/x.txt"]),
        (["*.MD"], None, []),
        (None, ["drafts"], [n for n in sorted(TREE) if not n.startswith("drafts/")]),
        (None, ["drafts/"], [n for n in sorted(TREE) if not n.startswith("drafts/")]),
        (None, ["**/old/**"], [n for n in sorted(TREE) if n != "drafts/old/notes.txt"]),
        (None, ["*.txt", "*.md", "*.docx", "*.pdf"], ["img/logo.png"]),
        ([], [], sorted(TREE)),
    ],
    ids=[
        "md-any-depth",
        "two-includes",
        "double-star-matches-zero-dirs",
        "leading-double-star-and-excludes",
        "include-dir-exclude-suffix",
        "case-sensitive",
        "exclude-dir-name",
        "exclude-dir-slash",
        "exclude-nested-dir",
        "exclude-everything-but-png",
        "empty-lists",
    ],
)
def test_include_exclude(
    tree: Path, include: list[str] | None, exclude: list[str] | None, expected: list[str]
) -> None:
    found = relative(tree, iter_document_paths(tree, include=include, exclude=exclude))
    assert found == expected


def test_non_recursive_lists_top_level_files_only(tree: Path) -> None:
    found = relative(tree, iter_document_paths(tree, recursive=False))
    assert found == sorted(n for n in TREE if "/" not in n)


def test_links(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    make_tree(root, ["real/doc.txt", "top.txt"])
    make_tree(outside, ["secret.txt"])
    (root / "dangling.pdf").symlink_to(root / "missing.pdf")
    (root / "loop.txt").symlink_to(root / "loop.txt")
    (root / "alias.txt").symlink_to(root / "top.txt")
    (root / "out-link").symlink_to(outside, target_is_directory=True)
    (root / "in-link").symlink_to(root / "real", target_is_directory=True)
    (root / "real" / "cycle").symlink_to(root, target_is_directory=True)

    found = relative(root, iter_document_paths(root))

    # Broken links are yielded (they get a failed row); linked directories are not entered.
    assert found == ["alias.txt", "dangling.pdf", "loop.txt", "real/doc.txt", "top.txt"]


def test_is_lazy_and_lists_one_directory_at_a_time(tree: Path) -> None:
    paths = iter_document_paths(tree)
    assert iter(paths) is paths and not isinstance(paths, list)
    first = next(paths)
    assert first.relative_to(tree).as_posix() == "Z.md"
    shutil.rmtree(tree / "docs")  # not listed yet, so its files never appear
    rest = relative(tree, paths)
    assert not any(name.startswith("docs/") for name in rest)
    assert "drafts/wip.md" in rest


def test_paths_keep_the_folder_as_given(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree.parent)
    paths = list(iter_document_paths(tree.name, include=["a/x.txt"]))
    assert paths == [Path(tree.name) / "a" / "x.txt"]


def test_empty_folder_yields_nothing(tmp_path: Path) -> None:
    assert list(iter_document_paths(tmp_path)) == []


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: None, "folder not found"),
        (lambda p: p.write_text("x"), "not a folder"),
    ],
    ids=["missing", "file"],
)
def test_bad_folder_raises_immediately(tmp_path: Path, make: object, fragment: str) -> None:
    folder = tmp_path / "nope"
    make(folder)  # type: ignore[operator]
    with pytest.raises(DocumentError, match=fragment) as info:
        iter_document_paths(folder)  # raised at the call, before any next()
    assert str(folder) in str(info.value)
    assert info.value.path == str(folder)
