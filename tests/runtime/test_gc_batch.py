"""The batch's collector settings hold while a batch runs and are undone after it."""

from __future__ import annotations

import gc
import weakref

import pytest

from eightflow.runtime.gc_batch import BATCH_THRESHOLDS, batch_gc


def test_a_batch_freezes_the_heap_and_collects_less_often_then_restores() -> None:
    before = gc.get_threshold()
    gc.unfreeze()
    with batch_gc():
        assert gc.get_threshold() == BATCH_THRESHOLDS
        assert gc.get_freeze_count() > 0  # what was alive at the start: never walked again
        with batch_gc():  # a worker inside a batch, or two batches in one process
            assert gc.get_threshold() == BATCH_THRESHOLDS
        assert gc.get_threshold() == BATCH_THRESHOLDS  # the inner end restored nothing yet
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0  # a long-lived process leaks nothing across batches


def test_cycles_made_during_a_batch_are_still_collected() -> None:
    class Node:
        other: object = None

    with batch_gc():
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None


def test_a_process_that_ran_a_batch_skips_the_final_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import eightflow.runtime.gc_pause as gc_pause

    registered: list[object] = []
    monkeypatch.setattr(gc_pause, "_exit_registered", False)
    monkeypatch.setattr(gc_pause.atexit, "register", registered.append)
    with batch_gc():
        assert registered == []  # not before the batch is over
    assert registered == [gc.freeze]
