"""Schema migrations are atomic, and many processes can open a fresh home at once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from eightflow.store.migrations import apply_migrations, user_version

ROOT = Path(__file__).resolve().parents[2]

OPEN_BOTH = """
import sys, time
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.001)
from eightflow.store.ledger import Ledger, SCHEMA_VERSION
from eightflow.store.cache import ResponseCache
ledger = Ledger()
cache = ResponseCache.default()
cache.put("k", {"v": 1}).result()
cache.close()
print(SCHEMA_VERSION)
"""


@pytest.mark.parametrize(
    ("migrations", "version_after"),
    [
        pytest.param([("CREATE TABLE a (x)",), ("ALTER TABLE a ADD COLUMN y",)], 2, id="ok"),
        pytest.param(
            [("CREATE TABLE a (x)",), ("ALTER TABLE a ADD COLUMN y", "BOGUS")], 0, id="bad"
        ),
    ],
)
def test_pending_migrations_commit_together_or_not_at_all(
    tmp_path: Path, migrations: list[tuple[str, ...]], version_after: int
) -> None:
    db = sqlite3.connect(tmp_path / "x.sqlite")
    if version_after == 0:
        with pytest.raises(sqlite3.OperationalError):
            apply_migrations(db, migrations)
    else:
        assert apply_migrations(db, migrations) == version_after
    assert user_version(db) == version_after
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert ("a" in tables) == (version_after > 0)  # the first step rolled back with the second


def test_migration_rechecks_the_version_inside_its_transaction(tmp_path: Path) -> None:
    """A second opener that saw the old version waits, then finds the work done."""
    path = tmp_path / "x.sqlite"
    migrations = [("CREATE TABLE a (x)",), ("ALTER TABLE a ADD COLUMN y",)]
    first = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    first.execute("BEGIN IMMEDIATE")  # the first opener is mid-migration
    for statement in (*migrations[0], *migrations[1]):
        first.execute(statement)
    first.execute("PRAGMA user_version = 2")
    second = sqlite3.connect(path, timeout=30, check_same_thread=False)
    assert user_version(second) == 0  # it still sees the old version
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(_try(second, migrations)))
    worker.start()
    time.sleep(0.3)  # the second is now waiting for the write lock
    first.execute("COMMIT")
    worker.join(timeout=60)
    assert outcome == [2]  # not "duplicate column name"
    assert [r[1] for r in second.execute("PRAGMA table_info(a)")] == ["x", "y"]


def _try(db: sqlite3.Connection, migrations: list[tuple[str, ...]]) -> object:
    try:
        return apply_migrations(db, migrations)
    except Exception as exc:
        return exc


@pytest.mark.e2e
def test_eight_processes_open_one_fresh_home_at_once(tmp_path: Path) -> None:
    home = tmp_path / "fresh-home"
    env = {**os.environ, "EIGHTFLOW_HOME": str(home), "PYTHONPATH": str(ROOT)}
    start = time.time() + 3.0  # every process imports first, then all open at this moment
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_BOTH, str(start)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    failures = [err for p, (_, err) in zip(procs, results, strict=True) if p.returncode != 0]
    assert not failures, failures[0]
    from eightflow.store.ledger import SCHEMA_VERSION

    assert user_version(sqlite3.connect(home / "ledger.sqlite")) == SCHEMA_VERSION
    assert user_version(sqlite3.connect(home / "cache.sqlite")) == 1
