"""A second batch into the same --out waits for the first, and says so."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from eightflow_app.tasks.out_lock import OutDirLock


def test_a_second_writer_waits_with_a_message_then_goes(tmp_path: Path) -> None:
    said: list[str] = []
    order: list[str] = []
    first = OutDirLock(tmp_path / "out").acquire()

    def second() -> None:
        with OutDirLock(tmp_path / "out", say=said.append) as lock:
            order.append("second")
            assert lock.waited

    thread = threading.Thread(target=second)
    thread.start()
    deadline = time.monotonic() + 10  # the second writer has said it waits (no fixed sleep)
    while not said and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    order.append("first done")
    first.release()
    thread.join(10)
    assert order == ["first done", "second"]
    assert len(said) == 1 and "another batch is writing to" in said[0] and "waiting" in said[0]
    assert list((tmp_path / "out").iterdir()) == []  # no lock file among the results


def test_an_unheld_folder_is_taken_at_once_without_a_message(tmp_path: Path) -> None:
    said: list[str] = []
    with OutDirLock(tmp_path / "new", say=said.append) as lock:
        assert not lock.waited
    assert said == []
