"""Rename references to the app's folders to the names they install as.

``flows/``, ``tasks/`` and ``deployments/`` stay top-level folders of the repository but
install as ``eightflow_app.flows``, ``eightflow_app.tasks`` and ``eightflow_app.deployments``
(setup.py). This rewrites, in every tracked text file, each dotted module path that starts
with one of those folders and names a module that exists (``tasks.loading`` ->
``eightflow_app.tasks.loading``; a variable's ``tasks.append`` is left alone), each
``from tasks import x``, and the shipped prompts' entry point. It also applies the
engine-side module moves of the same change (``eightflow.observe.sanitize`` ->
``eightflow.sanitize``). Idempotent: run it again, or on another branch, and only new
references change.

    python scripts/rename_app_imports.py [ROOT]
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

APP_FOLDERS = ("flows", "tasks", "deployments")
SUFFIXES = {".py", ".md", ".toml", ".yaml", ".yml", ".cfg", ".ini", ".txt", ".json"}
SKIP = {"scripts/rename_app_imports.py", "setup.py", "tests/scripts/test_rename_app_imports.py"}

DOTTED = re.compile(rf"(?<![\w./-])({'|'.join(APP_FOLDERS)})((?:\.[A-Za-z_]\w*)+)")
FROM_PACKAGE = re.compile(rf"\bfrom ({'|'.join(APP_FOLDERS)}) import\b")
FIXED = (
    ('shipped = "prompts"', 'shipped = "eightflow_app.prompts"'),
    ("eightflow.observe.sanitize", "eightflow.sanitize"),
    ("from eightflow.observe import sanitize", "from eightflow import sanitize"),
    ("eightflow/observe/sanitize.py", "eightflow/sanitize.py"),
)


def _is_module(root: Path, folder: str, first: str) -> bool:
    return (root / folder / first).is_dir() or (root / folder / f"{first}.py").is_file()


def rename(text: str, root: Path) -> str:
    def dotted(match: re.Match[str]) -> str:
        folder, rest = match.group(1), match.group(2)
        first = rest[1:].split(".")[0]
        if not _is_module(root, folder, first):
            return match.group(0)
        return f"eightflow_app.{folder}{rest}"

    text = DOTTED.sub(dotted, text)
    text = FROM_PACKAGE.sub(r"from eightflow_app.\1 import", text)
    for old, new in FIXED:
        text = text.replace(old, new)
    return text


def main(root: Path) -> int:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    changed = 0
    for name in listed:
        path = root / name
        if name in SKIP or path.suffix not in SUFFIXES or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new = rename(text, root)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
            print(name)
    print(f"{changed} files changed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()))
