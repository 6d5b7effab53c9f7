"""The wheel works anywhere: built from the checkout, installed into a fresh venv, run from an
empty folder, with no generic top-level names and the prompts inside the package.

The fresh venv takes its third-party packages from the running one's site-packages (``.pth``
lines, which Python adds to ``sys.path`` without running those folders' own ``.pth`` files,
so the checkout's editable install stays out): the test needs no network, and the only eightflow it
can import is the wheel's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "sample.md"

pytestmark = pytest.mark.e2e


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


# What the wheel is built from; a copy, so no build/ or egg-info of an earlier build leaks in.
SOURCES = ("pyproject.toml", "README.md", "eightflow", "flows",
           "tasks", "deployments", "prompts")  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=skip)
        else:
            shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheelhouse")
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)],
        cwd=out, env=dict(os.environ),
    )  # fmt: skip
    (found,) = out.glob("eightflow-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; returns its ``bin`` folder."""
    root = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(root, with_pip=False)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(root), "platbase": str(root)}))
    borrowed = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "borrowed-dependencies.pth").write_text("".join(f"{p}\n" for p in borrowed))
    python = root / "bin" / "python"
    # The borrowed folders may hold the checkout's editable eightflow: never touch it.
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--ignore-installed", "-q", str(wheel)],
        cwd=root, env=dict(os.environ),
    )  # fmt: skip
    return root / "bin"


def test_the_wheel_claims_no_generic_top_level_names_and_ships_the_prompts(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"eightflow", "eightflow_app", "eightflow-0.1.0.dist-info"}
    shipped = {n.rpartition("/")[2] for n in names if n.startswith("eightflow_app/prompts/")}
    assert {"summarization.v1.md", "workflow_planning.v1.md"} <= shipped


@pytest.mark.prefect
def test_the_cli_runs_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    work = tmp_path / "anywhere"
    (work / "folder").mkdir(parents=True)
    (work / "doc.txt").write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (work / "folder" / "one.txt").write_text("The ferry to Kilmory Bay runs daily.\n")
    (work / "folder" / "two.md").write_text("# Notes\n\nRain is expected all week.\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EIGHTFLOW_", "PYTHON", "VIRTUAL_ENV"))
    }
    env |= {
        "PATH": f"{installed}{os.pathsep}{env.get('PATH', '')}",
        "EIGHTFLOW_HOME": str(tmp_path / "home"),
        "EIGHTFLOW_AUTO_SERVER": "0",
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    eightflow = str(installed / "eightflow")

    where = _run(
        [str(installed / "python"), "-c",
         "import eightflow, eightflow_app.tasks, importlib.util as u; "
         "print(eightflow.__file__, eightflow_app.tasks.__file__, "
         "[u.find_spec(n) is None for n in ('flows', 'tasks', 'deployments')])"],
        cwd=work, env=env,
    )  # fmt: skip
    assert str(REPO) not in where and where.count(str(installed.parent)) == 2, where
    assert where.strip().endswith("[True, True, True]"), where

    listed = _run([eightflow, "workflows"], cwd=work, env=env)
    assert "document_analysis" in listed and "document_triage" in listed

    shown = _run([eightflow, "show", "document_analysis"], cwd=work, env=env)
    assert "summarization" in shown and "flowchart" in shown

    result = json.loads(_run([eightflow, "run", "document_analysis", "doc.txt", "--json"],
                             cwd=work, env=env))  # fmt: skip
    assert result["status"] == "completed", result
    assert {"summary", "topics", "sentiment", "entities"} <= set(result["outputs"])
    assert [s["prompt"] for s in result["steps"] if s.get("prompt")], result["steps"]

    _run([eightflow, "analyze", "folder", "--out", "results"], cwd=work, env=env)
    rows = (work / "results" / "results.csv").read_text().splitlines()
    assert len(rows) == 3 and "one.txt" in rows[1] + rows[2] and "two.md" in rows[1] + rows[2]
