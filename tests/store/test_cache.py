"""The response cache's writer: group commits, and a write that fails failing alone."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from eightflow.store import cache as cache_module
from eightflow.store.cache import ResponseCache


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ResponseCache]:
    store = ResponseCache(tmp_path / "cache.sqlite")
    yield store
    store.close()


def held_writer(store: ResponseCache) -> threading.Event:
    """Keep the writer thread busy until the returned event is set: writes queue up."""
    release, started = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        release.wait(10)

    store._writer.submit(hold)
    assert started.wait(10)
    return release


def commits_of(store: ResponseCache) -> list[str]:
    """The writer connection's COMMIT statements from now on (it is opened by a write)."""
    store.put("warm-up", {"v": 0}).result()
    seen: list[str] = []
    assert store._writer_db is not None
    store._writer_db.set_trace_callback(
        lambda sql: seen.append(sql) if sql.strip().upper() == "COMMIT" else None
    )
    return seen


def stored(path: Path, table: str = "responses") -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute(f"SELECT key, value FROM {table}").fetchall())


def test_writes_queued_while_the_writer_is_busy_share_one_commit(cache: ResponseCache) -> None:
    commits = commits_of(cache)
    release = held_writer(cache)
    futures = [cache.put(f"k{i}", {"v": i}) for i in range(10)]
    futures.append(cache.put_outcome("doc", {"status": "completed"}))
    assert not any(f.done() for f in futures)  # nothing is done before its commit
    release.set()
    for future in futures:
        future.result(timeout=10)
    assert commits == ["COMMIT"]
    assert len(stored(cache.path)) == 11  # the warm-up and ten
    assert cache.get("k7") == {"v": 7}
    assert cache.get_outcome("doc") == {"status": "completed"}


def test_a_future_completes_only_once_its_write_is_readable(cache: ResponseCache) -> None:
    for i in range(20):
        cache.put_outcome(f"doc{i}", {"n": i}).result(timeout=10)
        # Another connection, as a re-run after a kill -9 would open: the row is there.
        assert stored(cache.path, "outcomes")[f"doc{i}"] == f'{{"n": {i}}}'


def test_no_future_is_done_before_its_group_commits(cache: ResponseCache) -> None:
    commits_of(cache)  # opens the writer's connection
    assert cache._writer_db is not None
    futures: list[Future[None]] = []
    at_commit: list[bool] = []
    cache._writer_db.set_trace_callback(
        lambda sql: at_commit.extend(f.done() for f in futures) if sql == "COMMIT" else None
    )
    release = held_writer(cache)
    futures += [cache.put(f"k{i}", {"v": i}) for i in range(5)]
    release.set()
    for future in futures:
        future.result(timeout=10)
    assert at_commit == [False] * 5


def refusing(store: ResponseCache, key: str, action: str) -> None:
    """A trigger that makes SQLite refuse the insert of ``key``: ``ABORT`` undoes that
    statement only, ``ROLLBACK`` the whole transaction (as a full disk does)."""
    with sqlite3.connect(store.path) as db:
        db.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT ON responses WHEN NEW.key = '{key}' "
            f"BEGIN SELECT RAISE({action}, 'refused'); END"
        )


@pytest.mark.parametrize(
    ("bad_value", "refused_by", "error"),
    [
        ({"v": object()}, None, TypeError),  # not JSON
        ({"v": 1}, "ABORT", sqlite3.IntegrityError),  # SQLite refuses this statement
    ],
)
def test_a_write_that_fails_fails_alone(
    cache: ResponseCache,
    bad_value: dict[str, Any],
    refused_by: str | None,
    error: type[Exception],
) -> None:
    if refused_by:
        refusing(cache, "bad", refused_by)
    release = held_writer(cache)
    before = cache.put("before", {"v": 1})
    bad = cache.put("bad", bad_value)
    after = cache.put_outcome("after", {"v": 2})
    release.set()
    with pytest.raises(error):
        bad.result(timeout=10)
    before.result(timeout=10)
    after.result(timeout=10)
    assert set(stored(cache.path)) == {"before"}
    assert cache.get_outcome("after") == {"v": 2}
    assert cache.get("before") == {"v": 1}


def test_a_statement_that_rolls_back_the_transaction_fails_the_whole_group(
    cache: ResponseCache,
) -> None:
    refusing(cache, "bad", "ROLLBACK")
    release = held_writer(cache)
    futures = [cache.put("before", {"v": 1}), cache.put("bad", {"v": 2})]
    futures.append(cache.put_outcome("after", {"v": 3}))
    release.set()
    for future in futures:
        with pytest.raises(sqlite3.IntegrityError, match="refused"):
            future.result(timeout=10)
    assert stored(cache.path) == {} and stored(cache.path, "outcomes") == {}
    assert cache.get("before") is None  # never counted as stored
    cache.put("before", {"v": 4}).result(timeout=10)  # the writer goes on
    assert cache.get("before") == {"v": 4}


def test_a_writer_that_cannot_open_the_file_fails_its_writes(
    cache: ResponseCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unopenable(path: Path) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(cache_module, "_connect", unopenable)
    futures = [cache.put("a", {"v": 1}), cache.put_outcome("b", {"v": 2})]
    for future in futures:
        with pytest.raises(sqlite3.OperationalError, match="unable to open"):
            future.result(timeout=10)
    monkeypatch.undo()
    cache.put("a", {"v": 3}).result(timeout=10)
    assert cache.get("a") == {"v": 3}


def test_a_write_after_close_is_refused_every_time(tmp_path: Path) -> None:
    store = ResponseCache(tmp_path / "cache.sqlite")
    store.close()
    for _ in range(3):  # never a future left waiting for a writer that is gone
        with pytest.raises(RuntimeError):
            store.put("k", {"v": 1})


def test_a_failed_commit_fails_its_group_and_the_writer_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect = cache_module._connect

    def impatient(path: Path) -> sqlite3.Connection:
        db = connect(path)
        db.execute("PRAGMA busy_timeout = 50")
        return db

    monkeypatch.setattr(cache_module, "_connect", impatient)
    store = ResponseCache(tmp_path / "cache.sqlite")
    try:
        other = sqlite3.connect(store.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        release = held_writer(store)
        futures = [store.put("a", {"v": 1}), store.put_outcome("b", {"v": 2})]
        release.set()
        for future in futures:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                future.result(timeout=10)
        assert store.get("a") is None  # a failed write is not counted as stored
        other.execute("ROLLBACK")
        other.close()
        store.put("a", {"v": 3}).result(timeout=10)
        assert store.get("a") == {"v": 3}
    finally:
        store.close()


def test_an_outcome_given_as_json_is_stored_as_given(cache: ResponseCache) -> None:
    text = '{"status":"completed","cost_usd":0.25,"steps":[]}'
    cache.put_outcome("doc", text).result(timeout=10)
    assert cache.get_outcome_json("doc") == text
    assert cache.get_outcome("doc") == {"status": "completed", "cost_usd": 0.25, "steps": []}


def test_flush_waits_for_every_queued_write(cache: ResponseCache) -> None:
    release = held_writer(cache)
    futures = [cache.put(f"k{i}", {"v": i}) for i in range(5)]
    flushed = threading.Event()
    flusher = threading.Thread(target=lambda: (cache.flush(), flushed.set()))
    flusher.start()  # from another thread, as a batch's end does
    assert not flushed.wait(0.1)
    release.set()
    assert flushed.wait(10)
    assert all(f.done() and f.exception() is None for f in futures)
    assert len(cache) == 5
