"""A worker's document queue: it stops taking documents when the flow's process is gone."""

from __future__ import annotations

import asyncio
import os
import queue
from pathlib import Path
from typing import Any

from eightflow.batch.workers import _consume


class _Runner:
    """Only what ``_consume`` touches: it records the documents it is handed."""

    class options:
        final_pass_s = 0.0

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def safe_process(self, path: Path) -> Any:
        self.seen.append(path.name)

        class Outcome:
            transient = False

        return Outcome()


async def test_a_worker_whose_parent_died_ends_after_what_it_holds() -> None:
    paths: queue.Queue[str | None] = queue.Queue()
    paths.put("a.txt")  # taken before the parent "died"; no end mark ever comes
    runner = _Runner()
    emitted: list[str] = []
    not_my_parent = os.getppid() + 1_000_000
    await asyncio.wait_for(
        _consume(runner, paths, 2, lambda p, o: emitted.append(p), parent=not_my_parent),
        timeout=15,
    )
    assert runner.seen == ["a.txt"] and emitted == ["a.txt"]


async def test_a_worker_with_a_live_parent_waits_for_the_end_mark() -> None:
    paths: queue.Queue[str | None] = queue.Queue()
    runner = _Runner()
    job = asyncio.ensure_future(_consume(runner, paths, 2, lambda p, o: None, parent=os.getppid()))
    await asyncio.sleep(1.5)  # past the pump's one-second poll
    assert not job.done()
    paths.put("b.txt")
    paths.put(None)
    await asyncio.wait_for(job, timeout=15)
    assert runner.seen == ["b.txt"]
