"""Attack: a thread flips a link between an inside and an outside target while documents
are loaded and results written. Checking a path and then using it again lets the flip
land in between (8,970 outside reads in 10 s before the fix); opening once, without
following a final link, and checking the open descriptor never reads or writes outside."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from eightflow_app.tasks.loading import load_document
from eightflow_app.tasks.publishing import ResultsWriter, atomic_write

from eightflow.batch.models import BatchSummary
from eightflow.errors import DocumentError

SECRET = "the-worker's-private-file"  # in outside/private.txt (see conftest.py)
FLIPS_AT_LEAST = 2_000


@contextmanager
def flipping(link: Path, targets: tuple[Path, Path]) -> Iterator[list[int]]:
    """A thread that swaps ``link`` between two targets (atomically) until the block ends."""
    flips = [0]
    stop = threading.Event()

    def flip() -> None:
        spare = link.with_name(link.name + ".next")
        while not stop.is_set():
            target = targets[flips[0] % 2]
            spare.unlink(missing_ok=True)
            spare.symlink_to(target, target_is_directory=target.is_dir())
            os.replace(spare, link)
            flips[0] += 1

    # The flipper gives the GIL up at each system call and waits a whole switch interval
    # (5 ms) to get it back from the busy test thread: 2,000 flips took 10-30 s. A short
    # interval lets the two threads interleave finely, the very race under test.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    thread = threading.Thread(target=flip, daemon=True)
    thread.start()
    try:
        yield flips
    finally:
        stop.set()
        thread.join(10)
        sys.setswitchinterval(interval)


def _until(
    flips: list[int], step: Callable[[], None], min_steps: int = 500, budget_s: float = 90.0
) -> int:
    """Run ``step`` over and over until the link has flipped enough times and ``step``
    has run ``min_steps`` times; how many steps."""
    steps, deadline = 0, time.monotonic() + budget_s
    while flips[0] < FLIPS_AT_LEAST or steps < min_steps:
        step()
        steps += 1
        assert time.monotonic() < deadline, f"{flips[0]} flips, {steps} steps in {budget_s} s"
    return steps


@pytest.fixture
def world(roots: dict[str, Path]) -> dict[str, Path]:
    """The roots, with ``data/doc.txt`` a link to a document inside."""
    (roots["data"] / "inside.txt").write_text("An ordinary note kept inside the data root.\n")
    (roots["data"] / "doc.txt").symlink_to(roots["data"] / "inside.txt")
    return roots


def test_a_flipping_document_link_never_reads_outside(world: dict[str, Path]) -> None:
    seen = {"inside": 0, "refused": 0}

    def load() -> None:
        try:
            text = load_document(world["data"] / "doc.txt", world["data"]).text
        except DocumentError as exc:  # refused, with a reason naming the file
            assert "doc.txt" in str(exc) and SECRET not in str(exc)
            seen["refused"] += 1
            return
        assert SECRET not in text
        seen["inside"] += 1

    targets = (world["data"] / "inside.txt", world["outside"] / "private.txt")
    with flipping(world["data"] / "doc.txt", targets) as flips:
        _until(flips, load)
    assert seen["inside"] and seen["refused"], seen  # the race did land on both sides


def test_a_flipping_folder_on_the_way_never_reads_outside(world: dict[str, Path]) -> None:
    """The swapped link is a folder in the middle of the path, not the file itself."""
    (world["data"] / "real").mkdir()
    (world["data"] / "real" / "doc.txt").write_text("Inside, one folder down.\n")
    (world["outside"] / "doc.txt").write_text(SECRET + "\n")
    link = world["data"] / "sub"
    link.symlink_to(world["data"] / "real", target_is_directory=True)

    def load() -> None:
        with suppress(DocumentError):
            assert SECRET not in load_document(link / "doc.txt", world["data"]).text

    with flipping(link, (world["data"] / "real", world["outside"])) as flips:
        _until(flips, load)


@pytest.mark.parametrize("writer", ["atomic_write", "results_writer"])
def test_a_flipping_output_folder_never_writes_outside(world: dict[str, Path], writer: str) -> None:
    inside = world["out_root"] / "real"
    inside.mkdir()
    link = world["out_root"] / "out"
    link.symlink_to(inside, target_is_directory=True)
    written = [0]

    def write() -> None:
        try:
            if writer == "atomic_write":
                with atomic_write(link / "results.csv") as fh:
                    fh.write("id,status\n")
            else:
                ResultsWriter(link).close(BatchSummary(workflow="w", version="v"))
        except (DocumentError, OSError):
            return  # refused: the folder was outside when it was opened
        written[0] += 1

    with flipping(link, (inside, world["outside"])) as flips:
        _until(flips, write, min_steps=500 if writer == "atomic_write" else 60)
    assert os.listdir(world["outside"]) == ["private.txt"]
    assert written[0] and (inside / "results.csv").exists()
