"""``iter_document_paths``: the candidate files of a folder, streamed in a stable order.

Design choices, each for a reason:

* **Order** is the sorted relative POSIX path (plain code-point order, the same on every
  OS), so runs, ledgers and results tables line up across machines. It is produced while
  walking: each directory is listed with ``os.scandir`` and sorted on its own, with
  directory names keyed as ``name + "/"``. That per-directory order is exactly the global
  sort of full paths (``a-b.txt`` before ``a/x.txt`` because ``-`` < ``/``), yet only one
  directory listing per level is held in memory.
* **Every file is yielded**, whatever its suffix, including broken symlinks: unsupported
  or broken files then get a failed row with a reason from ``load_document`` instead of
  silently vanishing from the batch.
* **Skipped**: hidden names (``.git``, ``.env``, ``.DS_Store``), Office lock files
  (``~$report.docx``), ``__pycache__``, ``Thumbs.db`` and ``desktop.ini``. Symlinked
  directories are never followed, since they may lead out of the root or loop back into
  it and duplicate files; symlinked *files* are yielded as files.
* **Patterns** (``include``/``exclude``) are ``fnmatch`` globs, matched case-sensitively
  against the path relative to the folder in POSIX form. As in ``fnmatch``, ``*``
  also matches ``/``, so ``*.pdf`` matches PDFs at any depth and ``drafts/*`` everything
  under ``drafts``. In addition, ``**/`` may match zero directories, so
  ``docs/**/*.md`` matches ``docs/a.md`` as well as ``docs/x/y/a.md``. ``include`` only
  filters files; an ``exclude`` pattern that matches a directory (``drafts``,
  ``drafts/``, ``drafts/**``) prunes it without walking it.
"""

from __future__ import annotations

import fnmatch
import itertools
import logging
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from eightflow.errors import DocumentError
from eightflow.settings import user_path

log = logging.getLogger(__name__)

JUNK_NAMES = frozenset({"__pycache__", "thumbs.db", "desktop.ini", ".ds_store"})
"""Names (compared lower-case) that are never documents."""

_MAX_DOUBLE_STARS = 8  # 2**8 pattern variants at most


def is_skipped_name(name: str) -> bool:
    """Whether a file or directory name is hidden, an Office lock file or known junk."""
    return name.startswith((".", "~$")) or name.lower() in JUNK_NAMES


class PathMatcher:
    """Matches relative POSIX paths against a list of globs (see the module docstring)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        regexes: list[str] = []
        for pattern in self.patterns:
            regexes.extend(fnmatch.translate(v) for v in _variants(pattern))
        self._regex = re.compile("|".join(f"(?:{r})" for r in regexes)) if regexes else None

    def matches(self, relative: str) -> bool:
        return self._regex is not None and self._regex.match(relative) is not None


def _variants(pattern: str) -> set[str]:
    """The pattern with each ``**/`` either kept or dropped, so it can match zero dirs."""
    pattern = pattern.strip()
    while pattern.startswith("./"):
        pattern = pattern[2:]
    pieces = pattern.split("**/")
    gaps = len(pieces) - 1
    if gaps == 0:
        return {pattern}
    if gaps > _MAX_DOUBLE_STARS:
        raise ValueError(f"too many '**/' in pattern {pattern!r}")
    variants = set()
    for keep in itertools.product((True, False), repeat=gaps):
        joined = pieces[0]
        for kept, piece in zip(keep, pieces[1:], strict=True):
            joined += ("**/" if kept else "") + piece
        variants.add(joined)
    return variants


def _as_list(patterns: Sequence[str] | str | None) -> list[str]:
    if patterns is None:
        return []
    return [patterns] if isinstance(patterns, str) else list(patterns)


def iter_document_paths(
    folder: Path | str,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    recursive: bool = True,
) -> Iterator[Path]:
    """Yield the files under ``folder`` (as ``folder / relative``), sorted by relative path.

    Checks the folder eagerly, so a missing or unreadable folder raises ``DocumentError``
    at the call, not at the first ``next()``; the walk itself is lazy.
    """
    root = user_path(folder)
    try:
        info = os.stat(root)
    except FileNotFoundError:
        raise DocumentError(f"folder not found: {root}", path=str(root)) from None
    except OSError as exc:
        raise DocumentError(f"cannot open folder {root}: {exc.strerror}", path=str(root)) from None
    if not stat.S_ISDIR(info.st_mode):
        raise DocumentError(f"not a folder: {root}", path=str(root))
    try:
        top = _list_dir(root)
    except OSError as exc:
        raise DocumentError(f"cannot list folder {root}: {exc.strerror}", path=str(root)) from None

    include_patterns = _as_list(include)
    includer = PathMatcher(include_patterns) if include_patterns else None
    excluder = PathMatcher(_as_list(exclude))
    return _walk(root, top, includer, excluder, recursive)


def _list_dir(directory: Path) -> list[tuple[str, bool]]:
    """``(name, is_dir)`` for one directory's candidates, in global-path sort order."""
    found: list[tuple[str, bool]] = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if is_skipped_name(entry.name):
                continue
            try:
                if entry.is_symlink():
                    # Follow links to files; yield broken ones; never enter linked dirs.
                    if entry.is_file() or not os.path.exists(entry.path):
                        found.append((entry.name, False))
                elif entry.is_dir(follow_symlinks=False):
                    found.append((entry.name, True))
                elif entry.is_file(follow_symlinks=False):
                    found.append((entry.name, False))
            except OSError:  # cannot even stat it: let load_document say why
                found.append((entry.name, False))
    found.sort(key=lambda item: item[0] + "/" if item[1] else item[0])
    return found


def _walk(
    root: Path,
    top: list[tuple[str, bool]],
    includer: PathMatcher | None,
    excluder: PathMatcher,
    recursive: bool,
) -> Iterator[Path]:
    # Depth-first with an explicit stack: deep trees cannot hit the recursion limit.
    stack: list[tuple[str, Iterator[tuple[str, bool]]]] = [("", iter(top))]
    while stack:
        prefix, entries = stack[-1]
        item = next(entries, None)
        if item is None:
            stack.pop()
            continue
        name, is_dir = item
        relative = prefix + name
        if is_dir:
            if not recursive or excluder.matches(relative) or excluder.matches(relative + "/"):
                continue
            try:
                children = _list_dir(root / relative)
            except OSError as exc:
                log.warning("skipping unreadable folder %s: %s", root / relative, exc)
                continue
            stack.append((relative + "/", iter(children)))
        elif (includer is None or includer.matches(relative)) and not excluder.matches(relative):
            yield root / relative
