"""Attack: a Run form reads any file the worker can (a symlink inside the folder is
followed out of it) and writes anywhere (``out: prompts`` breaks every later run)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents
from eightflow_app.flows.document_analysis import document_analysis
from eightflow_app.tasks.loading import load_document
from eightflow_app.tasks.publishing import ResultsWriter
from prefect.exceptions import ParameterTypeError

from eightflow.safety.path_roots import PathRootError, check_output_dir, check_readable


@pytest.fixture
def world(roots: dict[str, Path]) -> dict[str, Path]:
    """A data root with one document and a link out of it; a private file outside."""
    (roots["data"] / "note.txt").write_text("A short note about the harbour cycle club.\n")
    (roots["data"] / "escape.txt").symlink_to(roots["outside"] / "private.txt")
    return roots


def test_a_file_outside_the_data_roots_is_refused(world: dict[str, Path]) -> None:
    with pytest.raises(PathRootError, match=str(world["data"])):
        load_document(world["outside"] / "private.txt")
    assert load_document(world["data"] / "note.txt").text.startswith("A short note")


def test_a_link_out_of_the_root_is_refused_after_following_it(world: dict[str, Path]) -> None:
    with pytest.raises(PathRootError, match="really"):
        check_readable(world["data"] / "escape.txt")


def test_a_run_form_path_outside_the_roots_is_refused(world: dict[str, Path]) -> None:
    with pytest.raises(ParameterTypeError, match=str(world["data"])):
        document_analysis.validate_parameters({"path": str(world["outside"] / "private.txt")})


@pytest.mark.prefect
async def test_the_refusal_names_the_root_in_the_flow_runs_state(world: dict[str, Path]) -> None:
    state = await document_analysis(path=str(world["outside"] / "private.txt"), return_state=True)
    assert state.is_failed()
    assert str(world["data"]) in (state.message or "")
    assert "EIGHTFLOW_DATA_ROOTS" in (state.message or "")


@pytest.mark.prefect
async def test_a_batch_does_not_follow_a_link_out_of_its_folder(world: dict[str, Path]) -> None:
    out = world["out_root"] / "run"
    params = BatchParams(folder=str(world["data"]), out=str(out), concurrency=2)
    state = await batch_documents(**params.flow_parameters(), return_state=True)
    await state.result(raise_on_failure=False)
    with (out / "results.csv").open(encoding="utf-8") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert rows["note.txt"]["status"] == "completed"
    assert rows["escape.txt"]["status"] == "failed"
    assert "outside the data roots" in rows["escape.txt"]["error"]
    for name in ("results.csv", "trace.jsonl", "report.md"):
        assert "the-worker's-private-file" not in (out / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "where",
    ["prompts", "prompts/sub", "home", "home/prefect", "outside", "../elsewhere"],
)
def test_outputs_go_only_under_the_out_root(world: dict[str, Path], where: str) -> None:
    targets = {
        "prompts": Path.cwd() / "prompts",
        "prompts/sub": Path.cwd() / "prompts" / "sub",
        "home": world["home"],
        "home/prefect": world["home"] / "prefect",
        "outside": world["outside"],
        "../elsewhere": world["out_root"] / ".." / "elsewhere",
    }
    with pytest.raises(PathRootError, match=r"prompts|EIGHTFLOW_HOME|output root"):
        check_output_dir(targets[where])
    with pytest.raises(ParameterTypeError):
        batch_documents.validate_parameters({"out": str(targets[where])})


def test_prompts_is_refused_even_without_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EIGHTFLOW_OUT_ROOT", raising=False)
    with pytest.raises(PathRootError, match="prompts"):
        ResultsWriter(Path("prompts"))
    assert not (Path("prompts") / ".rows.spool.jsonl").exists()


def test_a_link_planted_in_the_output_folder_is_not_followed(world: dict[str, Path]) -> None:
    from eightflow.batch.models import BatchSummary

    out = world["out_root"] / "planted"
    out.mkdir()
    victim = world["outside"] / "victim.txt"
    victim.write_text("untouched\n")
    for name in ("results.csv", "report.md", "trace.jsonl"):
        (out / name).symlink_to(victim)
    ResultsWriter(out).close(BatchSummary(workflow="w", version="v"))
    assert victim.read_text() == "untouched\n"
    assert not (out / "results.csv").is_symlink() and (out / "report.md").read_text()


def test_an_output_folder_that_links_out_of_the_root_is_refused(world: dict[str, Path]) -> None:
    link = world["out_root"] / "sneaky"
    link.symlink_to(world["outside"], target_is_directory=True)
    with pytest.raises(PathRootError, match="output root"):
        ResultsWriter(link)
    assert os.listdir(world["outside"]) == ["private.txt"]


def test_the_cli_keeps_its_freedom_without_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("EIGHTFLOW_DATA_ROOTS", "EIGHTFLOW_OUT_ROOT"):
        monkeypatch.delenv(name, raising=False)
    doc = tmp_path / "anywhere.txt"
    doc.write_text("Text anywhere is fine for a local user.\n")
    assert load_document(doc).text.startswith("Text anywhere")
    assert check_output_dir(tmp_path / "out") == (tmp_path / "out").resolve()
