"""The rename script the integrator re-runs over other branches: what it changes, what not."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "rename_app_imports", REPO / "scripts" / "rename_app_imports.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for folder, module in (("tasks", "loading"), ("flows", "document_analysis.py")):
        target = tmp_path / folder / module
        target.parent.mkdir(parents=True, exist_ok=True)
        if module.endswith(".py"):
            target.write_text("")
        else:
            target.mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("from tasks.loading import load_document",
         "from eightflow_app.tasks.loading import load_document"),
        ("import tasks.loading as loading", "import eightflow_app.tasks.loading as loading"),
        ("from tasks import loading", "from eightflow_app.tasks import loading"),
        ('x = "flows.document_analysis:DocumentAnalysisWorkflow"',
         'x = "eightflow_app.flows.document_analysis:DocumentAnalysisWorkflow"'),
        ("see ``tasks.loading``", "see ``eightflow_app.tasks.loading``"),
        ('shipped = "prompts"', 'shipped = "eightflow_app.prompts"'),
        ("from eightflow.observe.sanitize import sanitize",
         "from eightflow.sanitize import sanitize"),
        # left alone: not a module of the app, a file path, an already renamed path
        ("tasks.append(job)", "tasks.append(job)"),
        ("entrypoint: flows/batch.py:batch", "entrypoint: flows/batch.py:batch"),
        ("from eightflow_app.tasks.loading import x", "from eightflow_app.tasks.loading import x"),
        ("self.tasks.loading", "self.tasks.loading"),
    ],
)  # fmt: skip
def test_rename(root: Path, before: str, after: str) -> None:
    rename = _script().rename
    assert rename(before, root) == after
    assert rename(after, root) == after  # idempotent
