"""Run a workflow over a stream of documents: bounded, isolated, resumable, budgeted.

- Paths stream in from an iterator; at most ``2 × concurrency`` documents are in flight,
  so memory does not grow with the folder.
- One :class:`CallLimiter` and one :class:`Budget` span the batch: model calls never
  exceed ``concurrency`` (and ``rpm``), and once the budget is spent no call starts and the
  remaining documents are listed as unprocessed.
- Each document is isolated: its own run state and records. Any exception in one
  document's processing (load, steps, cache, ledger, sinks) becomes its failed row with the
  exception type and a one-line reason; the batch goes on.
- Documents that failed only for transient reasons (429, 5xx, timeouts, dropped
  connections, answers outside the schema) are held back from the sinks and run again
  in a final pass with longer backoff, bounded by ``final_pass_s``.
- A finished document's outcome is stored under (sha256, workflow version, model) and its
  model answers under their request, both committed as they happen: a re-run, or a run
  after ``kill -9``, repeats no finished document's model calls.

One document's own path (cache, load, run pipeline, results row) is
:mod:`eightflow.batch.document_run`; the final pass is :mod:`eightflow.batch.final_pass`.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from eightflow.batch.cached import LedgerGroup, file_sha256
from eightflow.batch.document_run import process_document
from eightflow.batch.final_pass import final_pass
from eightflow.batch.models import BatchOptions, BatchSummary, DocumentOutcome
from eightflow.batch.on_budget import BudgetSwitch
from eightflow.batch.recovery import contained, one_line
from eightflow.batch.shared_bounds import batch_wide, release_shared
from eightflow.documents import Document
from eightflow.pipeline.run import RunPipeline
from eightflow.pipeline.sinks import BatchScope
from eightflow.runtime.budget import Budget
from eightflow.runtime.gc_batch import batch_gc
from eightflow.runtime.limiter import CallLimiter
from eightflow.settings import get_settings
from eightflow.store.cache import ResponseCache
from eightflow.workflow import Workflow

Loader = Callable[[Path, Path], Document]


class OutcomeSink(Protocol):
    def write(self, outcome: DocumentOutcome) -> None: ...

    def close(self, summary: BatchSummary) -> None: ...


ProgressListener = Callable[[BatchSummary, DocumentOutcome], None]
_listeners: list[ProgressListener] = []


def add_progress_listener(listener: ProgressListener) -> None:
    """Register a callback for every finished document (the CLI's progress bar)."""
    _listeners.append(listener)


def remove_progress_listener(listener: ProgressListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


class BatchRunner:
    def __init__(
        self,
        workflow: Workflow,
        options: BatchOptions,
        paths: Iterable[Path],
        root: Path,
        loader: Loader,
        sinks: Iterable[OutcomeSink] = (),
        cache: ResponseCache | None = None,
    ) -> None:
        self.workflow = workflow
        self.options = options
        self.paths = paths
        self.root = root
        self.loader = loader
        self.sinks = list(sinks)
        self._owns_cache = cache is None
        self.cache = cache or ResponseCache.default()
        workflow.cache = None if options.refresh else self.cache
        definition = workflow.definition
        self.budget = Budget(
            max_tokens=definition.max_tokens,
            max_cost_usd=options.max_cost_usd
            if options.max_cost_usd is not None
            else definition.max_cost_usd,
        )
        self.limiter = CallLimiter(options.concurrency, options.rpm)
        # A shard of a sharded batch: its calls in flight and spend are the batch's.
        self.budget, self.limiter = batch_wide(self.budget, self.limiter, options.batch_key)
        self.model = options.model or workflow.run_model or get_settings().model
        self.summary = BatchSummary(workflow=definition.name, version=workflow.version)
        self.batch_id: str | None = None  # the batch flow run's id, for the ledger
        self.workers = 1  # processes that ran documents (set by run)
        self.out_dir: str | None = None  # where results go: a review decision updates them
        # Ledger runs of documents served from cache (workers set ``wait``).
        self.cached_runs = LedgerGroup(_default_ledger)
        self._pipeline: RunPipeline | None = None
        #: The workflow's target breaches, judged once when the batch has run.
        self.target_breaches: list[dict[str, Any]] = []
        self.on_budget = BudgetSwitch(self)  # the lane (model, mode) of each document

    @property
    def pipeline(self) -> RunPipeline:
        """The run pipeline of this batch's documents (built once ``batch_id`` is known)."""
        if self._pipeline is None:
            self._pipeline = RunPipeline(
                self.workflow,
                batch=BatchScope(self.batch_id, self.out_dir),
                granularity=self.options.granularity,
            )
        return self._pipeline

    def outcome_key(self, sha256: str, model: str | None = None) -> str:
        # The base URL is part of the key: an outcome computed against one endpoint is
        # never served to a run against another.
        base = self.options.api_base or self.workflow.api_base or get_settings().api_base
        model = model or self.model
        return f"{sha256}:{self.summary.workflow}:{self.summary.version}:{model}:{base or ''}"

    def check_prices(self) -> None:
        """Refuse a USD cap on an unpriced model before any document starts."""
        if self.budget.max_cost_usd is None or self.options.allow_unpriced:
            return
        from eightflow.gateway.price_memo import known_priced

        if known_priced(self.model):  # found priced by an earlier run: litellm not imported
            return
        from eightflow.gateway.pricing import require_price

        require_price(self.model)

    async def run(self) -> BatchSummary:
        with batch_gc():  # see eightflow.runtime.gc_batch: ~12% of a batch's CPU
            return await self._run()

    async def _run(self) -> BatchSummary:
        self.check_prices()
        started = time.perf_counter()
        await self.on_budget.start()
        pool = self._worker_pool()
        if pool is not None:
            try:
                await pool.run()
            finally:  # this process's rows already written have their ledger runs
                await self.close_cached_runs()
            self.summary.documents_per_worker = pool.documents
            self.summary.peak_rss_mb_per_worker = pool.peak_rss_mb
            self.summary.cpu_s_per_worker = pool.cpu_s
            await self.finish_store()
        else:
            await self._run_here()
        await self.on_budget.close()
        await self.pipeline.close()  # the batch's target checks: once, every document in
        self.target_breaches = self.pipeline.target_breaches
        self.summary.concurrency_changes = list(self.limiter.changes)
        self.summary.charged_failed_calls = self.budget.charged_failures
        self.summary.workers = self.workers
        self.summary.duration_s = time.perf_counter() - started
        self.summary.budget_exhausted = bool(self.budget.exhausted)
        for sink in self.sinks:
            sink.close(self.summary)
        return self.summary

    def _worker_pool(self) -> Any:
        """Worker processes when ``workers`` > 1 and the workflow can be rebuilt by name.

        Unset (or 0) means one per core for a large, wide batch: measured on 2 cores at 32
        calls in flight, two forked processes took the batch from 22.4 s to 18.6 s.
        """
        from eightflow.batch.workers import WorkerPool, default_workers
        from eightflow.registry import workflow_names

        requested = self.options.workers or 1
        if not self.options.workers:  # auto
            requested = default_workers(self.options.concurrency, self.summary.expected)
            if requested > 1 and self._mostly_cached():
                requested = 1  # a re-run served from cache: nothing for a second core
        self.workers = max(1, min(requested, self.options.concurrency))
        name = self.summary.workflow
        # A budget that switches lanes (or asks) decides in one process, for every document.
        if self.workers == 1 or name not in workflow_names() or self.options.on_budget != "stop":
            self.workers = 1
            return None
        return WorkerPool(self, self.workers, name)

    def _mostly_cached(self, sample: int = 8) -> bool:
        """Whether most of the first ``sample`` documents have a stored outcome."""
        if self.options.refresh:
            return False
        iterator = iter(self.paths)
        head = list(itertools.islice(iterator, sample))
        self.paths = itertools.chain(head, iterator)
        hits = 0
        for path in head:
            sha = file_sha256(path) if path.is_file() else None
            if sha and self.cache.get_outcome(self.outcome_key(sha)) is not None:
                hits += 1
        return bool(head) and hits * 2 > len(head)

    async def close_cached_runs(self) -> None:
        """Commit the ledger runs of documents served from cache; count those that fail."""
        unrecorded, error = await self.cached_runs.close()
        if unrecorded:
            self.summary.ledger_unrecorded += unrecorded
            self.summary.ledger_error = self.summary.ledger_error or error

    async def finish_store(self) -> None:
        try:  # what this process holds of a sharded batch's limits goes back
            await release_shared(self.budget, self.limiter)
        except Exception as exc:  # else it runs out by itself
            self.summary.errors[f"shared limits: {one_line(exc)}"] += 1
        await self.close_cached_runs()
        await asyncio.to_thread(self.cache.flush)
        if self._owns_cache:  # a long-lived worker must not keep a writer thread per run
            await asyncio.to_thread(self.cache.close)

    async def _run_here(self) -> None:
        """Every document in this process's event loop."""
        workers = self.documents_in_flight()
        queue: asyncio.Queue[Path | None] = asyncio.Queue(maxsize=workers)
        deferred: list[tuple[Path, DocumentOutcome]] = []

        async def produce() -> None:
            for path in self._shard(self.paths):
                await queue.put(path)
            for _ in range(workers):
                await queue.put(None)

        async def consume() -> None:
            while (path := await queue.get()) is not None:
                outcome = await self.safe_process(path)
                if outcome.transient and self.options.final_pass_s > 0:
                    deferred.append((path, outcome))  # its row waits for the final pass
                else:
                    self._emit(outcome)

        tasks = [
            asyncio.ensure_future(c) for c in (produce(), *(consume() for _ in range(workers)))
        ]
        try:
            try:
                await asyncio.gather(*tasks)
            except BaseException:  # e.g. on_budget=ask suspending the flow run: no orphans
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
            await self._final_pass(deferred)
        finally:  # the rows already written have their ledger runs, whatever ended the loop
            await self.close_cached_runs()
        await self.finish_store()

    async def safe_process(self, path: Path) -> DocumentOutcome:
        """:meth:`process`, with any exception it lets out turned into the document's row."""
        try:
            return await self.process(path)
        except Exception as exc:
            return contained(self._doc_id(path), path, exc, "processing")

    async def _final_pass(
        self,
        deferred: list[tuple[Path, DocumentOutcome]],
        emit: Callable[[DocumentOutcome], None] | None = None,
    ) -> None:
        """Transiently failed documents again (:func:`eightflow.batch.final_pass.final_pass`)."""
        await final_pass(self, deferred, emit or self._emit)

    def documents_in_flight(self) -> int:
        return self.options.concurrency * 2

    def _shard(self, paths: Iterable[Path]) -> Iterable[Path]:
        return in_shard(paths, self.root, self.options.shard_index, self.options.shard_count)

    def _doc_id(self, path: Path) -> str:
        return document_id(path, self.root)

    def _emit(self, outcome: DocumentOutcome) -> None:
        for sink in self.sinks:
            try:
                sink.write(outcome)
            except Exception as exc:
                # The row could not be written as it was: write the document as failed,
                # with why, so it is neither lost nor silently half-written.
                outcome = contained(outcome.id, Path(outcome.path), exc, "writing results")
                try:
                    sink.write(outcome)
                except Exception as again:
                    self.summary.errors[f"sink {type(sink).__name__}: {one_line(again)}"] += 1
        self.summary.add(outcome)
        for listener in list(_listeners):
            try:
                listener(self.summary, outcome)
            except Exception as exc:  # a progress bar must not end a batch
                self.summary.errors[f"progress listener: {one_line(exc)}"] += 1

    async def process(self, path: Path) -> DocumentOutcome:
        """One document: see :func:`eightflow.batch.document_run.process_document`."""
        return await process_document(self, path)


def _default_ledger() -> Any:
    from eightflow.store.ledger import default_ledger

    return default_ledger()


def document_id(path: Path, root: Path) -> str:
    """A document's id: its path under the batch's folder (its name when outside it)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def in_shard(paths: Iterable[Path], root: Path, index: int, count: int) -> Iterator[Path]:
    """The paths that belong to shard ``index`` of ``count`` (all of them when ``count`` is 1)."""
    for path in paths:
        if count == 1 or _shard_of(document_id(path, root), count) == index:
            yield path


def _shard_of(doc_id: str, count: int) -> int:
    return int(hashlib.sha1(doc_id.encode(), usedforsecurity=False).hexdigest()[:8], 16) % count
