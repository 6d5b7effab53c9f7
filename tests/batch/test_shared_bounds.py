"""Batch-wide bounds across processes: shares that sum to the whole, one shared budget."""

from __future__ import annotations

import multiprocessing

import pytest

from eightflow.batch.models import BatchOptions, BatchSummary
from eightflow.batch.shared_bounds import BudgetCell, SharedBudget, split, split_rpm
from eightflow.batch.workers import default_workers
from eightflow.errors import BudgetExceeded


@pytest.mark.parametrize(
    ("total", "parts", "expected"),
    [
        (32, 2, [16, 16]),
        (33, 2, [17, 16]),
        (8, 3, [3, 3, 2]),
        (3, 4, [1, 1, 1]),  # never a zero share: fewer processes instead
        (1, 2, [1]),
    ],
)
def test_split_shares_sum_to_the_whole(total: int, parts: int, expected: list[int]) -> None:
    assert split(total, parts) == expected
    assert sum(split(total, parts)) == total


@pytest.mark.parametrize(("rpm", "parts"), [(600.0, 2), (90.0, 3), (None, 2)])
def test_split_rpm_sums_to_the_whole(rpm: float | None, parts: int) -> None:
    shares = split_rpm(rpm, parts)
    assert len(shares) == parts
    if rpm is None:
        assert shares == [None] * parts
    else:
        assert sum(s or 0.0 for s in shares) == pytest.approx(rpm)


@pytest.mark.parametrize(
    ("concurrency", "documents", "cores", "expected"),
    [
        (32, 1000, 2, 2),  # wide and large: one process per core
        (32, 1000, 1, 1),  # one core: one process
        (32, 150, 2, 1),  # a handful of documents: not worth a second process
        (8, 1000, 2, 2),  # latency-bound, yet two event loops still turn calls faster
        (4, 1000, 2, 1),  # too few calls in flight to share
        (64, 10_000, 16, 4),  # capped
    ],
)
def test_default_workers(concurrency: int, documents: int, cores: int, expected: int) -> None:
    assert default_workers(concurrency, documents, cores) == expected


def _reserve_until_refused(cell: BudgetCell, counts: object, index: int) -> None:
    budget = SharedBudget(cell, max_tokens=200, max_cost_usd=None)
    taken = 0
    while True:
        try:
            budget.reserve(1, None)
        except BudgetExceeded:
            break
        taken += 1
    counts[index] = taken  # type: ignore[index]


@pytest.mark.e2e
def test_shared_budget_holds_across_processes() -> None:
    """Four processes racing for 200 one-token reservations get exactly 200 between them."""
    ctx = multiprocessing.get_context("spawn")
    cell = BudgetCell(ctx)
    counts = ctx.Array("i", [0] * 4)
    procs = [ctx.Process(target=_reserve_until_refused, args=(cell, counts, i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert sum(counts) == 200
    seen = SharedBudget(cell, max_tokens=200, max_cost_usd=None)
    assert seen.exhausted == "max_tokens"  # the parent sees what the workers did
    with pytest.raises(BudgetExceeded):
        seen.reserve(1, None)


def test_shared_budget_settles_into_shared_spend() -> None:
    ctx = multiprocessing.get_context("spawn")
    cell = BudgetCell(ctx)
    a = SharedBudget(cell, max_tokens=None, max_cost_usd=1.0)
    b = SharedBudget(cell, max_tokens=None, max_cost_usd=1.0)
    held = a.reserve(10, 0.25)
    assert b._reserved_usd == pytest.approx(0.25)
    a.settle(held, 12, 0.3)
    assert b.spent_usd == pytest.approx(0.3) and b.spent_tokens == 12
    with pytest.raises(BudgetExceeded):
        b.reserve(10, 0.8)  # 0.3 spent + 0.8 > 1.0
    assert a.exhausted == "max_cost_usd"


class _Cache:
    def __init__(self, stored: set[str]) -> None:
        self.stored = stored

    def get_outcome(self, key: str) -> dict[str, str] | None:
        return {"id": key} if key.split(":")[0] in self.stored else None


@pytest.mark.parametrize(("cached", "expected"), [(8, True), (5, True), (4, False), (0, False)])
def test_a_rerun_served_from_cache_stays_in_one_process(
    tmp_path: object, cached: int, expected: bool
) -> None:
    """The default worker count drops to one when most sampled documents are cached."""
    from pathlib import Path
    from types import SimpleNamespace

    from eightflow.batch.cached import file_sha256
    from eightflow.batch.runner import BatchRunner

    root = Path(str(tmp_path))
    paths = []
    for i in range(10):
        path = root / f"d{i}.txt"
        path.write_text(f"document {i}")
        paths.append(path)
    stored = {file_sha256(p) or "" for p in paths[:cached]}
    runner = BatchRunner.__new__(BatchRunner)
    runner.options = BatchOptions()
    runner.paths = iter(paths)
    runner.cache = _Cache(stored)  # type: ignore[assignment]
    runner.summary = BatchSummary(workflow="w", version="v")
    runner.model = "m"
    runner.workflow = SimpleNamespace(api_base=None)  # type: ignore[assignment]
    assert runner._mostly_cached() is expected
    assert list(runner.paths) == paths  # the sample is not lost to the batch


@pytest.mark.parametrize(
    ("workers", "concurrency", "documents", "expected"),
    [
        (None, 32, 1000, 2),  # unset: one per core for a large, wide batch
        (0, 32, 1000, 2),  # 0 says the same
        (1, 32, 1000, 1),  # asked for one
        (None, 8, 1000, 2),  # latency-bound: two event loops still turn calls faster
        (None, 4, 1000, 1),  # too few calls in flight to share
        (None, 32, 50, 1),  # a handful of documents
        (3, 2, 1000, 2),  # never more processes than calls in flight
    ],
)
def test_how_many_processes_a_batch_uses(
    monkeypatch: pytest.MonkeyPatch,
    workers: int | None,
    concurrency: int,
    documents: int,
    expected: int,
) -> None:
    from types import SimpleNamespace

    import eightflow.batch.workers as workers_module
    from eightflow.batch.runner import BatchRunner

    monkeypatch.setattr(workers_module.os, "cpu_count", lambda: 2)
    runner = BatchRunner.__new__(BatchRunner)
    runner.options = BatchOptions(workers=workers, concurrency=concurrency)
    runner.paths = iter(())
    runner.cache = _Cache(set())  # type: ignore[assignment]
    runner.summary = BatchSummary(workflow="document_analysis", version="v", expected=documents)
    runner.model = "m"
    runner.workflow = SimpleNamespace(api_base=None)  # type: ignore[assignment]
    pool = runner._worker_pool()
    assert runner.workers == expected
    assert (pool is None) == (expected == 1)
