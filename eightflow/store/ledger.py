"""The run ledger: every run, step and model call, kept locally and durably.

Prefect's database keeps runs only as long as its retention allows, and under load it has
been seen to lose task runs; questions across runs ("what did this cost last week?",
"did quality drop with prompt v2?") need rows of our own. SQLite under EIGHTFLOW_HOME,
versioned by ``PRAGMA user_version`` with forward-only migrations that keep every row.
Every text field is written through the one sanitizer.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eightflow.runtime.failpoints import failpoint
from eightflow.runtime.records import WorkflowResult
from eightflow.safety.sanitize_memo import SanitizeMemo
from eightflow.settings import get_settings
from eightflow.store.ledger_rows import insert_runs
from eightflow.store.migrations import apply_migrations, enable_wal
from eightflow.store.private import private_file

MIGRATIONS: list[tuple[str, ...]] = [
    (  # v1: runs, steps, calls
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, version TEXT NOT NULL,
            status TEXT NOT NULL, started TEXT NOT NULL, finished TEXT, duration_ms REAL,
            cost_usd REAL, tokens_in INTEGER, tokens_out INTEGER, model_calls INTEGER,
            error_type TEXT, error TEXT, flow_run_id TEXT, document_id TEXT)""",
        """CREATE TABLE steps (
            run_id TEXT NOT NULL REFERENCES runs(run_id), name TEXT NOT NULL, status TEXT,
            attempts INTEGER, started TEXT, duration_ms REAL, model TEXT, prompt TEXT,
            prompt_hash TEXT, tokens_in INTEGER, tokens_out INTEGER, cost_usd REAL,
            error_type TEXT, error TEXT, task_run_id TEXT, PRIMARY KEY (run_id, name))""",
        """CREATE TABLE calls (
            run_id TEXT NOT NULL REFERENCES runs(run_id), step TEXT NOT NULL, seq INTEGER,
            model TEXT, provider TEXT, prompt_id TEXT, prompt_version INTEGER,
            prompt_hash TEXT, tokens_in INTEGER, tokens_out INTEGER, cost_usd REAL,
            latency_ms REAL, attempt INTEGER, started TEXT, error_type TEXT, error TEXT,
            cache_hit INTEGER, output_digest TEXT, response TEXT)""",
        "CREATE INDEX runs_workflow ON runs(workflow, started)",
        "CREATE INDEX calls_run ON calls(run_id, step, seq)",
    ),
    (  # v2: batches, cached tokens, inputs for replay, criteria, notes, excerpts
        "ALTER TABLE runs ADD COLUMN batch_id TEXT",
        "ALTER TABLE runs ADD COLUMN document_sha256 TEXT",
        "ALTER TABLE runs ADD COLUMN cache_hits INTEGER DEFAULT 0",
        "ALTER TABLE runs ADD COLUMN inputs TEXT",
        "ALTER TABLE runs ADD COLUMN criteria TEXT",
        "ALTER TABLE runs ADD COLUMN model TEXT",
        "ALTER TABLE steps ADD COLUMN input_excerpt TEXT",
        "ALTER TABLE steps ADD COLUMN output_digest TEXT",
        "ALTER TABLE steps ADD COLUMN notes TEXT",
        "ALTER TABLE steps ADD COLUMN fallback_model TEXT",
        "ALTER TABLE calls ADD COLUMN tokens_cached INTEGER",
        """CREATE TABLE evals (
            eval_id TEXT, workflow TEXT, dataset TEXT, task TEXT, prompt TEXT, model TEXT,
            metric TEXT, value REAL, rows INTEGER, created TEXT)""",
        """CREATE TABLE target_checks (
            run_id TEXT, workflow TEXT, target TEXT, limit_value REAL, observed REAL,
            breached INTEGER, created TEXT)""",
    ),
]
MIGRATIONS.append(
    (  # v3: planning rounds of dynamic workflows
        """CREATE TABLE planning (
            run_id TEXT NOT NULL, round INTEGER NOT NULL, prompt TEXT, rationale TEXT,
            plan TEXT, done INTEGER, accepted TEXT, rejected TEXT, replans INTEGER,
            error TEXT, duration_ms REAL, PRIMARY KEY (run_id, round))""",
    )
)
MIGRATIONS.append(
    (  # v4: provider Batch API submissions and their custom_id -> (document, step) map
        """CREATE TABLE provider_batches (
            batch_id TEXT PRIMARY KEY, provider TEXT, model TEXT, input_file_id TEXT,
            output_file_id TEXT, error_file_id TEXT, wave INTEGER, part INTEGER,
            state TEXT NOT NULL, total INTEGER, completed INTEGER, failed INTEGER,
            run_key TEXT, workflow TEXT, created TEXT, updated TEXT,
            collected INTEGER DEFAULT 0, cost_usd REAL, online_cost_usd REAL)""",
        """CREATE TABLE provider_batch_lines (
            batch_id TEXT NOT NULL, custom_id TEXT NOT NULL, document_id TEXT NOT NULL,
            step TEXT NOT NULL, status TEXT, tokens_in INTEGER, tokens_out INTEGER,
            cost_usd REAL, online_cost_usd REAL, error TEXT,
            PRIMARY KEY (batch_id, custom_id, document_id, step))""",
        "CREATE INDEX provider_batch_lines_custom ON provider_batch_lines(custom_id)",
        "CREATE INDEX provider_batches_state ON provider_batches(state, collected)",
    )
)
MIGRATIONS.append(
    (  # v5: human reviews of step outputs, pending and decided (eightflow.review)
        """CREATE TABLE reviews (
            review_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, batch_id TEXT,
            flow_run_id TEXT, task_run_id TEXT, workflow TEXT NOT NULL, version TEXT,
            document_id TEXT, step TEXT NOT NULL, rule TEXT NOT NULL, output TEXT NOT NULL,
            prompt TEXT, model TEXT, proposed TEXT, reasons TEXT, actions TEXT,
            editable TEXT, on_timeout TEXT, timeout_seconds INTEGER, out_dir TEXT,
            link TEXT, status TEXT NOT NULL, created TEXT NOT NULL, decision TEXT,
            reviewer TEXT, edits TEXT, note TEXT, final TEXT, decided TEXT,
            seconds_to_decide REAL, decided_via TEXT)""",
        "CREATE INDEX reviews_status ON reviews(status, created)",
    )
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> int:
    """Apply the migrations this database lacks, atomically; returns the version it ends at."""
    return apply_migrations(db, MIGRATIONS)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Ledger:
    """Append-only store of runs. Thread-safe; one connection guarded by a lock."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or get_settings().state_dir / "ledger.sqlite"
        private_file(self.path)  # 0600: the ledger holds excerpts and answers
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        enable_wal(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")
        migrate(self._db)
        # Each item: runs (with their details) to commit, and the future that says so.
        self._queue: queue.Queue[tuple[list[tuple[Any, dict[str, Any]]], Future[None]]] = (
            queue.Queue()
        )
        # Guards only the writer thread's start and exit, never a transaction: a batch's
        # event loop submits a run per document and must not wait for the writer's commit.
        self._start_lock = threading.Lock()
        # A batch's runs repeat texts (a document's excerpt in several steps): each is
        # sanitized once. Used only inside _insert_runs, under the lock.
        self._sanitize = SanitizeMemo(max_len=1024, max_entries=4096)
        self._writer: threading.Thread | None = None

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._db:
            yield self._db

    def record_run(self, result: WorkflowResult, **details: Any) -> None:
        """One run with its steps and calls, in one transaction (details: see _rows_of)."""
        with self._tx() as db:
            self._insert_runs(db, [(result, details)])

    def submit_run(self, result: WorkflowResult, **details: Any) -> Future[None]:
        """Queue a run for the writer thread, which commits queued runs together.

        A batch records a run per document; one commit per document cost milliseconds of
        a busy 2-core machine. The returned future completes once the run is committed.
        """
        return self.submit_runs([(result, details)])

    def submit_runs(self, runs: list[tuple[WorkflowResult, dict[str, Any]]]) -> Future[None]:
        """:meth:`submit_run` for several runs (each with its details): one hand-over to
        the writer thread and one future, done when all of them are committed."""
        future: Future[None] = Future()
        self._queue.put((runs, future))
        with self._start_lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(
                    target=self._drain, name="eightflow-ledger", daemon=True
                )
                self._writer.start()
        return future

    def flush(self) -> None:
        """Wait until every submitted run is committed."""
        self.submit_runs([]).result()

    def _drain(self) -> None:
        while True:
            try:
                items = [self._queue.get(timeout=5.0)]
            except queue.Empty:
                with self._start_lock:  # a run queued just now still finds a writer
                    if self._queue.empty():
                        self._writer = None
                        return
                continue
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            # A caller that stopped waiting (a cancelled document) has its runs recorded all
            # the same; only its future is not told. Once running, a future cannot be
            # cancelled, so telling the others cannot fail and stop this thread.
            told = [future for _, future in items if future.set_running_or_notify_cancel()]
            try:
                with self._tx() as db:
                    self._insert_runs(db, [run for runs, _ in items for run in runs])
                    failpoint("ledger_commit")
            except Exception as exc:
                for future in told:
                    future.set_exception(exc)
            else:
                for future in told:
                    future.set_result(None)

    def _insert_runs(
        self, db: sqlite3.Connection, runs: list[tuple[WorkflowResult, dict[str, Any]]]
    ) -> None:
        """Runs with their planning rounds, steps and calls (see :mod:`ledger_rows`)."""
        insert_runs(db, runs, self._sanitize)

    def record_eval(self, row: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute(
                """INSERT INTO evals (eval_id, workflow, dataset, task, prompt, model, metric,
                value, rows, created) VALUES (?,?,?,?,?,?,?,?,?,?)""",
                (
                    row["eval_id"],
                    row["workflow"],
                    row["dataset"],
                    row["task"],
                    row["prompt"],
                    row["model"],
                    row["metric"],
                    row["value"],
                    row["rows"],
                    _now(),
                ),
            )

    def record_target_check(
        self,
        run_id: str,
        workflow: str,
        target: str,
        limit: float,
        observed: float | None,
        breached: bool,
    ) -> None:
        with self._tx() as db:
            db.execute(
                """INSERT INTO target_checks (run_id, workflow, target, limit_value, observed,
                breached, created) VALUES (?,?,?,?,?,?,?)""",
                (run_id, workflow, target, limit, observed, int(breached), _now()),
            )

    def write(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """One write statement in its own transaction; returns the rows it changed."""
        with self._tx() as db:
            return int(db.execute(sql, params).rowcount)

    # -- reading -------------------------------------------------------------------------

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self._db.execute(sql, params).fetchall()]

    def run(self, run_id: str) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT * FROM runs WHERE run_id = ? OR run_id LIKE ?", (run_id, f"{run_id}%")
        )
        return rows[0] if len(rows) == 1 else None

    def steps(self, run_id: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM steps WHERE run_id = ?", (run_id,))

    def calls(self, run_id: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM calls WHERE run_id = ? ORDER BY step, seq", (run_id,))

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        return {
            t: self.query(f"SELECT * FROM {t}")
            for t in (
                "runs",
                "steps",
                "calls",
                "evals",
                "target_checks",
                "provider_batches",
                "reviews",
            )
        }

    def close(self) -> None:
        with self._lock:
            self._db.close()


_DEFAULT: dict[Path, Ledger] = {}
_DEFAULT_LOCK = threading.Lock()


def _forget_after_fork() -> None:
    """A forked process (a batch worker) opens its own ledger: the parent's connection and
    writer thread are not its to use, and the lock may have been held when it forked."""
    global _DEFAULT_LOCK
    _DEFAULT.clear()
    _DEFAULT_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_after_fork)


def default_ledger() -> Ledger:
    """One ledger per EIGHTFLOW_HOME per process (threads opening it at once share one)."""
    path = get_settings().state_dir / "ledger.sqlite"
    with _DEFAULT_LOCK:
        if path not in _DEFAULT:
            _DEFAULT[path] = Ledger(path)
        return _DEFAULT[path]
