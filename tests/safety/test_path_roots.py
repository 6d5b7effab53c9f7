"""A Run form's default paths work from wherever the stack was started: relative paths
are read under the roots ``eightflow stack up`` set, not the worker's working directory."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from eightflow_app.flows.batch_documents import batch_documents
from eightflow_app.flows.document_analysis import document_analysis
from prefect.exceptions import ParameterTypeError

from eightflow.safety.path_roots import PathRootError, check_output_dir, check_readable

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's examples where the stack was started; the worker runs in
    the project's own folder (its pull step), as `eightflow stack up` sets it up."""
    from eightflow_app.deployments.stack import stack_env

    started = tmp_path / "copy"
    shutil.copytree(PROJECT / "examples", started / "examples")
    monkeypatch.setenv("EIGHTFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EIGHTFLOW_DATA_ROOTS", raising=False)
    monkeypatch.delenv("EIGHTFLOW_OUT_ROOT", raising=False)
    env = stack_env("http://127.0.0.1:1/api", started_in=started)
    for name in ("EIGHTFLOW_DATA_ROOTS", "EIGHTFLOW_OUT_ROOT"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.chdir(PROJECT)  # the worker's working directory
    return started.resolve()


def test_the_stack_sets_the_roots_to_where_it_started(copy: Path) -> None:
    import os

    assert Path(os.environ["EIGHTFLOW_DATA_ROOTS"]).resolve() == copy
    assert Path(os.environ["EIGHTFLOW_OUT_ROOT"]).resolve() == copy


def test_the_adhoc_forms_default_path_is_read_under_the_data_root(copy: Path) -> None:
    checked = document_analysis.validate_parameters({"path": "examples/sample.md"})
    assert Path(checked["path"]) == copy / "examples" / "sample.md"


def test_the_nightly_forms_defaults_are_read_and_written_under_the_roots(copy: Path) -> None:
    checked = batch_documents.validate_parameters({"folder": "examples/documents", "out": "out"})
    assert Path(checked["folder"]) == copy / "examples" / "documents"
    assert Path(checked["out"]) == copy / "out"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("examples/sample.md", "examples/sample.md"), ("./examples/../examples/sample.md", None)],
)
def test_a_relative_path_resolves_under_the_data_root(
    copy: Path, given: str, expected: str | None
) -> None:
    assert check_readable(given) == copy / (expected or "examples/sample.md")


@pytest.mark.parametrize("escape", ["../outside.txt", "examples/../../outside.txt"])
def test_a_relative_path_cannot_climb_out_of_the_root(copy: Path, escape: str) -> None:
    (copy.parent / "outside.txt").write_text("private\n")
    with pytest.raises(PathRootError, match="outside the data roots"):
        check_readable(escape)
    with pytest.raises(ParameterTypeError):
        document_analysis.validate_parameters({"path": escape})


def test_a_relative_output_folder_goes_under_the_output_root(copy: Path) -> None:
    assert check_output_dir("out/nightly") == copy / "out" / "nightly"
    with pytest.raises(PathRootError, match="output root"):
        check_output_dir("../elsewhere")


def test_without_roots_a_relative_path_is_the_working_directorys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EIGHTFLOW_DATA_ROOTS", raising=False)
    monkeypatch.chdir(PROJECT)
    assert check_readable("examples/sample.md") == PROJECT / "examples" / "sample.md"


# -- "~" is the home, wherever a root or a path is read ---------------------------------------


@pytest.fixture
def me(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home (``$HOME``) with two folders of documents; the working directory elsewhere,
    where a ``~`` left unexpanded would name a folder called ``~``."""
    home = tmp_path / "me"
    for folder, name in (("docs", "a.md"), ("other", "b.md")):
        (home / folder).mkdir(parents=True)
        (home / folder / name).write_text("# A note\n\nThe harbour opens at nine.\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("EIGHTFLOW_HOME", str(tmp_path / "eightflow-home"))
    for name in ("EIGHTFLOW_DATA_ROOTS", "EIGHTFLOW_OUT_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return Path(os.path.realpath(home))


def _loaded(path: str) -> Path:
    from eightflow_app.tasks.loading import load_document

    return Path(load_document(path).path)


def _walked(folder: str) -> Path:
    from eightflow_app.tasks.loading import iter_document_paths

    return next(iter(iter_document_paths(folder))).parent


@pytest.mark.parametrize(
    ("roots", "resolve", "given", "expected"),
    [
        ({}, check_readable, "~/docs/a.md", "docs/a.md"),
        ({"EIGHTFLOW_DATA_ROOTS": "~/docs"}, check_readable, "~/docs/a.md", "docs/a.md"),
        ({"EIGHTFLOW_DATA_ROOTS": "~/docs"}, check_readable, "a.md", "docs/a.md"),
        ({"EIGHTFLOW_DATA_ROOTS": "~/docs"}, check_readable, "~/other/b.md", PathRootError),
        ({"EIGHTFLOW_DATA_ROOTS": "/nowhere,~/other"}, check_readable, "~/other/b.md",
         "other/b.md"),
        ({}, check_output_dir, "~/out", "out"),
        ({"EIGHTFLOW_OUT_ROOT": "~/out"}, check_output_dir, "~/out/run-1", "out/run-1"),
        ({"EIGHTFLOW_OUT_ROOT": "~/out"}, check_output_dir, "run-1", "out/run-1"),
        ({"EIGHTFLOW_OUT_ROOT": "~/out"}, check_output_dir, "~/other", PathRootError),
        ({}, _loaded, "~/docs/a.md", "docs/a.md"),
        ({"EIGHTFLOW_DATA_ROOTS": "~/docs"}, _loaded, "~/docs/a.md", "docs/a.md"),
        ({}, _walked, "~/docs", "docs"),
    ],
)  # fmt: skip
def test_a_tilde_is_the_home_wherever_a_path_is_resolved(
    me: Path,
    monkeypatch: pytest.MonkeyPatch,
    roots: dict[str, str],
    resolve: Callable[[str], Path],
    given: str,
    expected: str | type[Exception],
) -> None:
    for name, value in roots.items():
        monkeypatch.setenv(name, value)
    if isinstance(expected, str):
        assert Path(os.path.realpath(resolve(given))) == me / expected
    else:
        with pytest.raises(expected, match=re.escape(str(me))):  # names the expanded root
            resolve(given)
    assert not Path("~").exists()


@pytest.mark.parametrize("resolve", [check_readable, check_output_dir, _loaded, _walked])
def test_a_tilde_naming_no_user_is_refused_by_name(resolve: Callable[[str], Path]) -> None:
    """Python raises a bare RuntimeError for ``~nosuchuser``: a form field or a batch row
    must say what is wrong instead."""
    from eightflow.errors import DocumentError

    with pytest.raises(DocumentError, match="~nosuchuser-8f names no user"):
        resolve("~nosuchuser-8f/a.md")
