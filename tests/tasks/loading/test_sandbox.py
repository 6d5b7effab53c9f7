"""The loader sandbox: a file that needs too much memory or time costs its row, not the worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eightflow.errors import DocumentError
from tasks.loading.sandbox import LoaderSandbox, SandboxLimits, sandboxed_load_document

SMALL_CSV = "name,value\nalpha,1\nbeta,2\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "small.csv").write_text(SMALL_CSV)
    (tmp_path / "big.csv").write_text("name,value\n" + "alpha beta gamma,12345\n" * 2_000_000)
    (tmp_path / "deep.html").write_text("<div>" * 100_000 + "deep" + "</div>" * 100_000)
    (tmp_path / "rot13.html").write_text(
        '<html><head><meta charset="rot13"><title>T</title></head><body>hello</body></html>'
    )
    return tmp_path


@pytest.fixture
def sandbox_of() -> Iterator[object]:
    made: list[LoaderSandbox] = []

    def make(**limits: float) -> LoaderSandbox:
        made.append(LoaderSandbox(SandboxLimits(**limits)))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for sandbox in made:
        sandbox.close()


@pytest.mark.parametrize(
    ("name", "limits", "reason"),
    [
        pytest.param("big.csv", {"memory_mb": 100}, "memory ceiling", id="memory ceiling"),
        pytest.param("deep.html", {"timeout_s": 1.0}, "ran past its 1 s limit", id="wall clock"),
    ],
)
def test_a_file_past_a_limit_costs_its_row_and_the_next_file_loads(
    files: Path, sandbox_of: object, name: str, limits: dict[str, float], reason: str
) -> None:
    sandbox = sandbox_of(workers=1, **{"timeout_s": 60.0, "memory_mb": 100, **limits})  # type: ignore[operator]
    with pytest.raises(DocumentError) as caught:
        sandbox.load(files / name, files)
    assert reason in str(caught.value) and str(files / name) in str(caught.value)
    document = sandbox.load(files / "small.csv", files)  # the sandbox goes on
    assert document.id == "small.csv" and "alpha" in document.text


def test_a_non_text_charset_loads_as_if_undeclared(files: Path) -> None:
    document = sandboxed_load_document(files / "rot13.html", files)
    assert "hello" in document.text


def test_plain_text_is_not_sent_to_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tasks.loading.sandbox as sandbox_module

    def no_pool() -> None:
        raise AssertionError("a .txt file went to the process pool")

    monkeypatch.setattr(sandbox_module, "shared_sandbox", no_pool)
    (tmp_path / "a.txt").write_text("plain words")
    assert sandboxed_load_document(tmp_path / "a.txt", tmp_path).text == "plain words"
