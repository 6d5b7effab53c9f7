"""Roots for reading and writing: a Run form reaches only the folders the operator named.

- ``EIGHTFLOW_DATA_ROOTS`` (folders separated by ``:`` or ``,``) limits what may be read;
  ``EIGHTFLOW_OUT_ROOT`` limits where outputs may be written. ``eightflow stack up`` sets
  both to the folder it was started from; a local user's CLI keeps its freedom unless
  they are set.
- ``~`` and ``~user`` are the home in the roots and in every path checked against them
  (:func:`eightflow.settings.user_path`, the one expansion): no shell expands a Run form's.
- Every check is on the real path, after following links: a link inside an allowed
  folder that leads out of it is refused.
- A relative path is read from the working directory when that lands inside the roots,
  else from the roots themselves (the first data root holding it; the output root). A
  worker runs in the project's folder while ``eightflow stack up`` sets the roots to
  where it was started (a copy of the project, say): a Run form's default
  ``examples/sample.md`` means the one under the root, wherever the stack was started.
- Whatever the roots, an output folder is never inside a prompts folder or
  ``EIGHTFLOW_HOME`` (a ``report.md`` there would break every later run, or overwrite the
  ledger).

A refused path raises :class:`PathRootError`, whose message names the root.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import IO, Any

from eightflow.errors import DocumentError
from eightflow.settings import get_settings, user_path


class PathRootError(DocumentError):
    """A path outside the roots the operator allowed."""


def _split(raw: str | None) -> list[Path]:
    parts = [p.strip() for p in re.split(r"[,:]", raw or "") if p.strip()]
    return [user_path(p) for p in parts]


def data_roots() -> list[Path] | None:
    """The real paths documents may be read from; None when unrestricted."""
    roots = _split(os.environ.get("EIGHTFLOW_DATA_ROOTS"))
    return [Path(os.path.realpath(r)) for r in roots] or None


def out_root() -> Path | None:
    """The real path outputs may be written under; None when unrestricted."""
    raw = (os.environ.get("EIGHTFLOW_OUT_ROOT") or "").strip()
    return Path(os.path.realpath(user_path(raw))) if raw else None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _anchored(path: Path | str, roots: list[Path] | None, exists: bool) -> Path:
    """``path`` with ``~`` expanded (:func:`~eightflow.settings.user_path`); a relative one
    read against the roots when the working directory puts it outside them (``exists``:
    only a root that holds it, else the first root)."""
    given = user_path(path)
    if given.is_absolute() or not roots:
        return given
    here = Path(os.path.realpath(given))
    if any(_inside(here, root) for root in roots):
        return given
    for root in roots:
        candidate = root / given
        if not exists or candidate.exists():
            return candidate
    return roots[0] / given


def check_readable(path: Path | str) -> Path:
    """The real path of ``path`` if it lies inside a data root; else ``PathRootError``
    (a relative path: see :func:`_anchored`)."""
    roots = data_roots()
    path = _anchored(path, roots, exists=True)
    real = Path(os.path.realpath(path))
    if roots is not None and not any(_inside(real, root) for root in roots):
        names = ", ".join(str(r) for r in roots)
        shown = f"{path} (really {real})" if str(real) != os.path.abspath(path) else str(path)
        raise PathRootError(
            f"{shown} is outside the data roots ({names}); "
            "EIGHTFLOW_DATA_ROOTS limits what may be read",
            path=str(path),
        )
    return real


def forbidden_output_dirs() -> list[Path]:
    """Folders no output may go into: prompt folders and ``EIGHTFLOW_HOME``."""
    from eightflow.prompts import default_prompts_dir

    settings = get_settings()
    found = [settings.home, Path.cwd() / "prompts"]
    shipped = default_prompts_dir()
    if isinstance(shipped, Path):  # a regular install or checkout: files on disk
        found.append(shipped)
    if settings.prompts_dir:
        found.append(settings.prompts_dir)
    return list(dict.fromkeys(Path(os.path.realpath(user_path(p))) for p in found))


def check_output_dir(path: Path | str) -> Path:
    """The real path of an output folder, if allowed; else ``PathRootError``."""
    root = out_root()
    path = _anchored(path, [root] if root else None, exists=False)
    real = Path(os.path.realpath(path))
    for forbidden in forbidden_output_dirs():
        if _inside(real, forbidden):
            raise PathRootError(
                f"output folder {path} is inside {forbidden}; outputs never go into a "
                "prompts folder or EIGHTFLOW_HOME",
                path=str(path),
            )
    if root is not None and not _inside(real, root):
        raise PathRootError(
            f"output folder {path} (really {real}) is outside the output root {root}; "
            "EIGHTFLOW_OUT_ROOT limits where outputs may be written",
            path=str(path),
        )
    return real


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def opened_path(fd: int) -> Path | None:
    """The real path of what ``fd`` refers to, from the kernel (``/proc/self/fd``); None
    where the platform cannot say, or the file has since been deleted."""
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    return None if target.endswith(" (deleted)") else Path(target)


def _what_was_opened(fd: int, expected: Path) -> Path:
    """The real path of an open descriptor: the kernel's answer, or (without ``/proc``)
    ``expected`` when it is still the very same inode."""
    found = opened_path(fd)
    if found is not None:
        return found
    opened, there = os.fstat(fd), None
    with contextlib.suppress(OSError):
        there = os.stat(expected)
    if there is None or (there.st_dev, there.st_ino) != (opened.st_dev, opened.st_ino):
        raise PathRootError(f"{expected} changed while it was being opened", path=str(expected))
    return expected


def open_readable(path: Path | str, flags: int = 0) -> int:
    """Open a document once, and check what was opened: a descriptor to read from.

    The real path is checked against the data roots, opened without following a final
    link (a link swapped in after the check fails the open), and the open descriptor's
    own path is checked again, so a folder swapped for a link on the way is caught too.
    Read from the descriptor only: its path may change, the file it holds does not.
    """
    real = check_readable(path)
    fd = os.open(real, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | flags)
    try:
        check_readable(_what_was_opened(fd, real))
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_output_dir(path: Path | str) -> int:
    """A descriptor of an existing output folder, checked after it was opened (see
    :func:`check_output_dir`); write beneath it with ``dir_fd``, never by path."""
    real = check_output_dir(path)
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | _CLOEXEC
    fd = os.open(real, flags)
    try:
        check_output_dir(_what_was_opened(fd, real))
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_new_file(
    path: Path | str,
    mode: str = "w",
    encoding: str | None = "utf-8",
    dir_fd: int | None = None,
    exclusive: bool = False,
    newline: str | None = None,
) -> IO[Any]:
    """Open ``path`` for writing without following a link planted at its name; with
    ``dir_fd``, ``path`` is a name beneath that (checked) folder."""
    flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | _CLOEXEC
    flags |= os.O_EXCL if exclusive else os.O_TRUNC
    fd = os.open(path, flags, 0o644, dir_fd=dir_fd)
    if "b" in mode:
        return os.fdopen(fd, mode)
    return os.fdopen(fd, mode, encoding=encoding, newline=newline)
