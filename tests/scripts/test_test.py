"""``scripts/test``: which pytest command lines it runs for which arguments.

The tools it calls (ruff, mypy, lint-imports, python) are replaced on ``PATH`` by a stand-in
that writes its arguments to a log, so the script's own logic runs in a fraction of a second.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "test"
FAST = ["-q", "-m", "not e2e"]
PARALLEL = ["-q", "-m", "not e2e", "-n", "auto", "--dist", "loadscope"]
E2E = ["-q", "-m", "e2e"]

STAND_IN = """#!/bin/sh
if [ "$1" = "-c" ]; then exit "${HAS_XDIST_EXIT:-0}"; fi
name=$(basename "$0")
{ printf '%s' "$name"; for a in "$@"; do printf '\\t%s' "$a"; done; printf '\\n'; } >> "$CALLS"
if [ "$name" = python ]; then
  for a in "$@"; do [ "$a" = e2e ] && exit "${E2E_EXIT:-0}"; done
  exit "${PYTEST_EXIT:-0}"
fi
"""


def run_script(tmp_path: Path, *args: str, **env: str) -> tuple[int, list[list[str]], str]:
    """Run scripts/test with stand-ins; (exit code, pytest argv lists, stdout)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("ruff", "mypy", "lint-imports", "python"):
        (bin_dir / tool).write_text(STAND_IN)
        (bin_dir / tool).chmod(0o755)
    calls = tmp_path / "calls.log"
    calls.write_text("")
    environ = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "CALLS": str(calls),
        "HOME": str(tmp_path),
        **env,
    }
    done = subprocess.run(
        ["bash", str(SCRIPT), *args], env=environ, capture_output=True, text=True, timeout=60
    )
    lines = [line.split("\t") for line in calls.read_text().splitlines()]
    assert [line[0] for line in lines[:4]] == ["ruff", "ruff", "mypy", "lint-imports"]
    pytest_runs = [line[3:] for line in lines[4:] if line[0] == "python"]  # after -m pytest
    return done.returncode, pytest_runs, done.stdout


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, [PARALLEL]),
        (["--lf"], {}, [[*PARALLEL, "--lf"]]),
        (["-x", "-k", "tests"], {}, [[*PARALLEL, "-x", "-k", "tests"]]),
        (["tests/conftest.py"], {}, [[*FAST, "tests/conftest.py"]]),
        (["tests/test_conftest.py::test_require", "-x"], {},
         [[*FAST, "tests/test_conftest.py::test_require", "-x"]]),
        (["-p", "no:xdist"], {}, [[*FAST, "-p", "no:xdist"]]),
        (["--pdb"], {}, [[*FAST, "--pdb"]]),
        (["-n", "3"], {}, [[*FAST, "-n", "3"]]),
        ([], {"EIGHTFLOW_TEST_WORKERS": "0"}, [FAST]),
        ([], {"EIGHTFLOW_TEST_WORKERS": "4"}, [[*PARALLEL[:4], "4", *PARALLEL[5:]]]),
        ([], {"HAS_XDIST_EXIT": "1"}, [FAST]),
        (["--all"], {}, [PARALLEL, E2E]),
        (["--all", "--lf"], {}, [[*PARALLEL, "--lf"], [*E2E, "--lf"]]),
        (["--all", "tests/chaos"], {}, [["-q", "tests/chaos"]]),
    ],
)  # fmt: skip
def test_arguments_choose_workers_or_one_process(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: list[list[str]]
) -> None:
    code, runs, _ = run_script(tmp_path, *args, **env)
    assert code == 0
    assert runs == expected


@pytest.mark.parametrize(
    ("fast_exit", "e2e_exit", "expected"),
    [
        ("0", "0", 0),
        ("1", "0", 1),
        ("0", "1", 1),
        ("5", "0", 0),  # --lf or -k picked only e2e tests
        ("0", "5", 0),  # ... or only fast ones
        ("5", "5", 5),  # nothing at all
        ("1", "5", 1),
    ],
)
def test_all_fails_when_either_group_fails(
    tmp_path: Path, fast_exit: str, e2e_exit: str, expected: int
) -> None:
    code, runs, stdout = run_script(tmp_path, "--all", PYTEST_EXIT=fast_exit, E2E_EXIT=e2e_exit)
    assert len(runs) == 2
    assert code == expected
    assert f"(exit {expected})" in stdout and "wall time" in stdout
