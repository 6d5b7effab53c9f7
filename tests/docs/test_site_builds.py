"""``mkdocs build --strict`` passes: every page, link, image and generated reference."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_the_docs_site_builds_strictly(
    tmp_path: Path, require: Callable[[bool, str], None]
) -> None:
    try:
        import material  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError:
        require(False, "the docs extra: pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for page in ("reference/cli", "reference/settings", "reference/python-api"):
        assert (site / page / "index.html").stat().st_size > 10_000, page
    assert "eightflow stack up" in (site / "reference/cli/index.html").read_text()
