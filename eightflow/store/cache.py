"""The response cache: never pay twice for the same model request.

Two tables in one SQLite file under ``EIGHTFLOW_HOME``:

- ``responses``: model answers keyed by step, prompt id@version and hash, model, model
  parameters and the rendered request (which carries the document's content), so an
  unchanged document makes no model call, a changed one recomputes only the requests that
  changed, and a new prompt version or model misses;
- ``outcomes``: whole document outcomes keyed by the document's sha256, workflow version
  and model, so an unchanged document is served without even re-parsing it.

Writes go through one writer thread with its own connection, off the event loop (a commit
costs ~1 ms on a busy 2-core machine, and a batch makes thousands). ``aput_outcome`` waits
for its commit: a document counts as finished only once its outcome is on disk, so after
a ``kill -9`` no finished document is repeated. WAL mode lets reads run beside the writer.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from eightflow.runtime.failpoints import failpoint
from eightflow.settings import get_settings
from eightflow.store.migrations import apply_migrations, enable_wal
from eightflow.store.private import private_file

MIGRATIONS: list[tuple[str, ...]] = [
    tuple(  # v1: answers and outcomes (IF NOT EXISTS: files from before versioning)
        f"CREATE TABLE IF NOT EXISTS {table} "
        "(key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
        for table in ("responses", "outcomes")
    ),
]


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    enable_wal(db)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class ResponseCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        private_file(path)  # 0600: cached answers quote documents
        self._read_lock = threading.Lock()
        self._reader = _connect(path)
        apply_migrations(self._reader, MIGRATIONS)
        # Keys of stored answers, so a miss (every call of a first run) costs no query.
        self._keys: set[str] = {
            row[0] for row in self._reader.execute("SELECT key FROM responses").fetchall()
        }
        self._writer_db: sqlite3.Connection | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eightflow-cache")
        self.hits = 0
        self.misses = 0

    @classmethod
    def default(cls) -> ResponseCache:
        return cls(get_settings().state_dir / "cache.sqlite")

    # -- reads (caller's thread) ----------------------------------------------------------

    def _get_text(self, table: str, key: str) -> str | None:
        with self._read_lock:
            row = self._reader.execute(
                f"SELECT value FROM {table} WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else str(row[0])

    def _get(self, table: str, key: str) -> dict[str, Any] | None:
        text = self._get_text(table, key)
        return None if text is None else dict(json.loads(text))

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._get("responses", key) if key in self._keys else None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def get_outcome(self, key: str) -> dict[str, Any] | None:
        """A finished document's stored outcome (sha256 + workflow version + model)."""
        return self._get("outcomes", key)

    def get_outcome_json(self, key: str) -> str | None:
        """:meth:`get_outcome` as the stored JSON text, for a caller that validates it
        straight into a model (pydantic parses it faster than ``json.loads`` does)."""
        return self._get_text("outcomes", key)

    # -- writes (the writer thread) -------------------------------------------------------

    def _write(self, table: str, key: str, value: dict[str, Any]) -> None:
        if self._writer_db is None:
            self._writer_db = _connect(self.path)
        failpoint("cache_write")
        self._writer_db.execute(
            f"INSERT OR REPLACE INTO {table} (key, value, created) VALUES (?, ?, ?)",
            (key, json.dumps(value), time.time()),
        )

    def put(self, key: str, value: dict[str, Any]) -> Future[None]:
        """Store an answer; returns at once, the commit follows on the writer thread."""
        future = self._writer.submit(self._write, "responses", key, value)
        future.add_done_callback(lambda done: None if done.exception() else self._keys.add(key))
        return future

    def put_outcome(self, key: str, value: dict[str, Any]) -> Future[None]:
        return self._writer.submit(self._write, "outcomes", key, value)

    async def aput_outcome(self, key: str, value: dict[str, Any]) -> None:
        """Store a document's outcome and wait until it is committed."""
        await asyncio.wrap_future(self.put_outcome(key, value))

    def flush(self) -> None:
        """Wait for every queued write."""
        self._writer.submit(lambda: None).result()

    def __len__(self) -> int:
        self.flush()
        with self._read_lock:
            return int(self._reader.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        if self._writer_db is not None:
            self._writer_db.close()
        with self._read_lock:
            self._reader.close()
