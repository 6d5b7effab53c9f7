"""The response cache: never pay twice for the same model request.

Two tables in one SQLite file under ``EIGHTFLOW_HOME``:

- ``responses``: model answers keyed by step, prompt id@version and hash, model, model
  parameters and the rendered request (which carries the document's content), so an
  unchanged document makes no model call, a changed one recomputes only the requests that
  changed, and a new prompt version or model misses;
- ``outcomes``: whole document outcomes keyed by the document's sha256, workflow version
  and model, so an unchanged document is served without even re-parsing it.

Writes go through one writer thread with its own connection, off the event loop (a commit
costs ~1 ms on a busy 2-core machine, and a batch makes thousands). The writer commits
whatever has queued up since it last woke in one transaction (a group commit): a batch's
five writes per document (four answers and the outcome) no longer cost five commits and
five wake-ups of the writer thread. A write's future completes only once its group is
committed, so ``aput_outcome`` still waits for its commit: a document counts as finished
only once its outcome is on disk, and after a ``kill -9`` no finished document is
repeated. WAL mode lets reads run beside the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

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


def _as_json(value: dict[str, Any] | str) -> str:
    """A value's JSON text: a string is JSON already (our own ``model_dump_json()``)."""
    return value if isinstance(value, str) else json.dumps(value)


_INSERT = "INSERT OR REPLACE INTO {table} (key, value, created) VALUES (?, ?, ?)"


def _fail(writes: list[_Write], exc: BaseException) -> None:
    for write in writes:
        if not write.future.done():
            write.future.set_exception(exc)


class _Write(NamedTuple):
    table: str
    key: str
    value: dict[str, Any] | str  # a dict, or its JSON already
    future: Future[None]


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
        # Writes queued since the writer last took them, and whether it is due to take them.
        self._pending: list[_Write] = []
        self._pending_lock = threading.Lock()
        self._drain_due = False
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

    def _queue(self, table: str, key: str, value: dict[str, Any] | str) -> Future[None]:
        """Queue a write for the writer thread; wakes it only if it is not due already.

        ``table`` "" is a barrier: no row, done once everything queued before it is.
        """
        future: Future[None] = Future()
        with self._pending_lock:
            self._pending.append(_Write(table, key, value, future))
            due, self._drain_due = self._drain_due, True
        if not due:
            try:
                self._writer.submit(self._drain)
            except BaseException as exc:  # closed, or no thread to be had: say so to all
                with self._pending_lock:
                    writes, self._pending, self._drain_due = self._pending, [], False
                _fail([w for w in writes if w.future.set_running_or_notify_cancel()], exc)
                raise
        return future

    def _drain(self) -> None:
        """Write every queued write in one transaction, then complete their futures.

        A write whose value is not JSON, or whose statement SQLite refuses, fails alone:
        the others of its group are still committed. If the transaction fails (a commit, a
        lock held too long, an error after which SQLite rolled the whole transaction back),
        every write of the group not yet failed fails with it.
        """
        with self._pending_lock:
            writes, self._pending, self._drain_due = self._pending, [], False
        writes = [w for w in writes if w.future.set_running_or_notify_cancel()]
        try:
            rows: list[tuple[_Write, str]] = []
            for write in writes:  # encoded before the write lock is taken
                if not write.table:
                    continue
                try:
                    rows.append((write, _as_json(write.value)))
                except Exception as exc:
                    write.future.set_exception(exc)
            written = self._commit(rows) if rows else []
        except BaseException as exc:
            _fail(writes, exc)
            if not isinstance(exc, Exception):
                raise
            return
        for write in written:
            if write.table == "responses":
                self._keys.add(write.key)
        for write in writes:
            if not write.future.done():
                write.future.set_result(None)

    def _commit(self, rows: list[tuple[_Write, str]]) -> list[_Write]:
        """Insert ``rows`` in one transaction; the writes whose row is committed. Raises
        if the transaction fails (the writes not failed alone then fail with it)."""
        if self._writer_db is None:
            self._writer_db = _connect(self.path)
        db, now, written = self._writer_db, time.time(), []
        try:
            db.execute("BEGIN IMMEDIATE")
            for write, text in rows:
                failpoint("cache_write")
                try:
                    db.execute(_INSERT.format(table=write.table), (write.key, text, now))
                except sqlite3.Error as exc:
                    if not db.in_transaction:  # SQLite rolled it all back (disk full, ...)
                        raise
                    write.future.set_exception(exc)  # SQLite undid this statement only
                else:
                    written.append(write)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                with contextlib.suppress(Exception):
                    db.execute("ROLLBACK")
            raise
        return written

    def put(self, key: str, value: dict[str, Any]) -> Future[None]:
        """Store an answer; returns at once, the commit follows on the writer thread."""
        return self._queue("responses", key, value)

    def put_outcome(self, key: str, value: dict[str, Any] | str) -> Future[None]:
        """Store a document's outcome: a dict, or its JSON text (``model_dump_json()``
        writes it in less than half the time of ``model_dump`` then ``json.dumps``)."""
        return self._queue("outcomes", key, value)

    async def aput_outcome(self, key: str, value: dict[str, Any] | str) -> None:
        """Store a document's outcome and wait until it is committed."""
        await asyncio.wrap_future(self.put_outcome(key, value))

    def flush(self) -> None:
        """Wait for every write queued before it (from any thread)."""
        self._queue("", "", "").result()

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
