"""Atomic, concurrent-safe schema migrations for the SQLite stores.

Python's sqlite3 module commits DDL one statement at a time unless the connection is in
autocommit mode and the transaction is explicit: a crash mid-migration could leave a
half-migrated file, and eight processes opening a fresh ``EIGHTFLOW_HOME`` at once each
ran the same ``ALTER TABLE`` ("duplicate column name"). Here every pending migration
runs inside one ``BEGIN IMMEDIATE`` transaction (one writer at a time), ``user_version``
is read again inside it (another process may have migrated while we waited), and the
lot is committed together, or rolled back.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

BUSY_RETRY_S = 60.0


def user_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def apply_migrations(db: sqlite3.Connection, migrations: Sequence[Sequence[str]]) -> int:
    """Bring ``db`` to ``len(migrations)`` atomically; returns the version it ends at."""
    target = len(migrations)
    if user_version(db) >= target:
        return target
    saved = db.isolation_level
    if db.in_transaction:
        db.commit()
    db.isolation_level = None  # autocommit: our BEGIN/COMMIT are the only transaction
    try:
        _begin_immediate(db)
        try:
            for version in range(user_version(db), target):
                for statement in migrations[version]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.isolation_level = saved
    return target


def _begin_immediate(db: sqlite3.Connection) -> None:
    deadline = time.monotonic() + BUSY_RETRY_S
    while True:
        try:
            db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def enable_wal(db: sqlite3.Connection) -> None:
    """WAL mode, retried: switching it needs a moment alone with the file."""
    deadline = time.monotonic() + BUSY_RETRY_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
