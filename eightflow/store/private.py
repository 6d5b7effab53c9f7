"""Local state is private: ``EIGHTFLOW_HOME`` is 0700 and ledger and cache files 0600.

The home is made by ``eightflow.settings.private_dir`` (``Settings.state_dir`` and
``eightflow.server.auth.make_home_private`` call it), so it is the owner's alone from its
first use, not only once a server has started.

SQLite creates its ``-wal`` and ``-shm`` files with the database file's permissions, so
creating the database file first with 0600 keeps all three private.
"""

from __future__ import annotations

import os
from pathlib import Path


def private_file(path: Path) -> Path:
    """Create ``path`` readable by its owner only (its folder too); tighten if present."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path
