"""Local state is private: ``EIGHTFLOW_HOME`` is 0700 and ledger and cache files 0600.

:func:`private_dir` is the one way the home is made: ``Settings.state_dir`` (the ledger,
the cache, the stack's files), the auth file and the local server all call it, so the home
is the owner's alone from its first use, not only once a server has started.
(``eightflow.server_auth.make_home_private`` also tightens what is already inside it.)

SQLite creates its ``-wal`` and ``-shm`` files with the database file's permissions, so
creating the database file first with 0600 keeps all three private.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner can enter: created 0700 (its parents as
    usual), or tightened to 0700 when it exists and is ours."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.stat(path)
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` readable by its owner only (its folder too); tighten if present."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path
