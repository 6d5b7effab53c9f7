"""The install layout in pyproject.toml matches the tree: no package folder is left out.

setuptools' own ``package-dir`` mapping installs the top-level ``flows/``, ``tasks/``,
``deployments/`` and ``prompts/`` as portions of the ``eightflow_app`` namespace, and its
``packages`` list names every package explicitly. A folder with an ``__init__.py`` that is
missing from that list would be silently left out of the wheel; this test names it instead.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _packages_in(folder: str, name: str) -> set[str]:
    found = set()
    for init in (REPO / folder).rglob("__init__.py"):
        if "__pycache__" in init.parts:
            continue
        relative = init.parent.relative_to(REPO / folder)
        found.add(".".join((name, *relative.parts)))
    return found


def _expected() -> set[str]:
    expected = _packages_in("eightflow", "eightflow")
    for name, folder in SETUPTOOLS["package-dir"].items():
        expected |= _packages_in(folder, name)
    return expected


def test_every_package_folder_is_listed_and_every_listed_package_exists() -> None:
    listed = set(SETUPTOOLS["packages"])
    expected = _expected()
    assert not expected - listed, f"add to [tool.setuptools] packages: {sorted(expected - listed)}"
    assert not listed - expected, f"listed but not in the tree: {sorted(listed - expected)}"


@pytest.mark.parametrize("folder", ["flows", "tasks", "deployments", "prompts"])
def test_the_application_folders_install_under_the_eightflow_app_namespace(folder: str) -> None:
    assert SETUPTOOLS["package-dir"][f"eightflow_app.{folder}"] == folder
    assert not (REPO / "eightflow_app").exists(), "eightflow_app is a namespace: no folder"


def test_the_import_contracts_name_every_application_portion() -> None:
    roots = set(PYPROJECT["tool"]["importlinter"]["root_packages"])
    assert roots == {"eightflow", *SETUPTOOLS["package-dir"]}
