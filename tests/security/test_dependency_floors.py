"""Attack: a hostile PDF (or template) exploits a dependency with known CVEs because the
declared floor still allows the vulnerable releases."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
FLOORS = {"pypdf": "6.1.3", "jinja2": "3.1.6", "aiohttp": "3.12.14"}


def _requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = (Requirement(r) for r in project["dependencies"])
    return {r.name.lower(): r for r in found}


@pytest.mark.parametrize(("name", "floor"), FLOORS.items())
def test_declared_floor_excludes_vulnerable_releases(name: str, floor: str) -> None:
    requirement = _requirements()[name]
    below = Version(floor)
    older = Version(f"{below.major}.{below.minor}.{max(below.micro - 1, 0)}")
    if older == below:
        older = Version(f"{below.major}.{max(below.minor - 1, 0)}")
    assert not requirement.specifier.contains(older), f"{requirement} allows {older}"


@pytest.mark.parametrize(("name", "floor"), FLOORS.items())
def test_installed_version_meets_the_floor(name: str, floor: str) -> None:
    installed = Version(version(name))
    assert installed >= Version(floor)
    assert _requirements()[name].specifier.contains(installed)
