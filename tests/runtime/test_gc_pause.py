"""quiet_gc: the collector is off inside, back on after the last block, survivors frozen."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from eightflow.runtime.gc_pause import quiet_gc


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()
    if was:
        gc.enable()
    else:
        gc.disable()


def test_off_inside_and_back_on_after() -> None:
    gc.enable()
    with quiet_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_survivors_are_frozen() -> None:
    gc.unfreeze()
    with quiet_gc():
        kept = [[i] for i in range(1000)]
    assert gc.get_freeze_count() >= len(kept)


def test_nested_blocks_resume_only_at_the_outermost() -> None:
    gc.enable()
    with quiet_gc():
        with quiet_gc():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with quiet_gc():
        pass
    assert not gc.isenabled()


def test_blocks_overlapping_in_two_threads() -> None:
    """The first block to end must not switch the collector on under the other."""
    gc.enable()
    entered, release = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        with quiet_gc():
            entered.set()
            release.wait(5)
            seen.append(gc.isenabled())

    thread = threading.Thread(target=other)
    with quiet_gc():
        thread.start()
        assert entered.wait(5)
    assert not gc.isenabled()  # the other thread's block is still open
    release.set()
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_an_exception_still_resumes_the_collector() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), quiet_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_the_registry_freezes_only_on_a_first_import() -> None:
    """A long-lived process loads workflows again and again: no freeze after the first."""
    from eightflow.registry import load_workflow

    load_workflow("document_analysis")
    before = gc.get_freeze_count()
    kept = [[i] for i in range(1000)]  # tracked objects a freeze would move
    load_workflow("document_analysis")
    # Frozen objects freed by reference counting leave the count; a freeze adds ``kept``.
    assert gc.get_freeze_count() < before + len(kept)
