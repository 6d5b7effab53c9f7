"""Headless Chromium against a local Prefect server: the flags, the log-in, a pending review.

Shared by the browser tests and ``docs/screenshots.py``. Debian's ``chromium`` is driven
through playwright's library with ``executable_path`` (never ``playwright install``).
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

# The background-networking flags matter on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's Chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def log_in(page: Any, base_url: str, auth: str) -> None:
    """The server asks who you are: the UI's password is the auth string (the login page
    renders late)."""
    page.goto(base_url)
    password = page.locator("input[type=password]").first
    password.wait_for(timeout=60_000)
    password.fill(auth)
    password.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url, timeout=60_000)


def pending_review(home: Path, timeout: float = 180) -> dict[str, Any]:
    """The first pending review in ``home``'s ledger, once a run has asked for one."""
    deadline = time.monotonic() + timeout
    ledger = home / "ledger.sqlite"
    while time.monotonic() < deadline:
        if ledger.exists():
            db = sqlite3.connect(ledger)
            db.row_factory = sqlite3.Row
            try:
                rows = db.execute("SELECT * FROM reviews WHERE status = 'pending'").fetchall()
            except sqlite3.OperationalError:  # not migrated yet
                rows = []
            finally:
                db.close()
            if rows:
                return dict(rows[0])
        time.sleep(1)
    raise TimeoutError(f"no review was asked for within {timeout:.0f} s")
