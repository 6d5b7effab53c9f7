"""Spread one batch's documents over worker processes inside one flow run.

At high concurrency a batch is CPU-bound (litellm costs milliseconds of CPU per call), and
one event loop uses one core. Here the flow's own process and ``workers - 1`` worker
processes each run an event loop over documents they take from one shared queue, so a
slow document never leaves a core idle while others still wait.
- Workers are forked where the platform can (Linux): a spawned worker imported litellm
  and Prefect again, about 4-5 s of CPU each on this 2-core machine, before its first
  document. Forking happens before the flow's process has made any model call, Prefect
  resets its own threads and services in the child, and eightflow's process-wide
  singletons (the ledger, the loader sandbox) forget the parent's at fork.
  ``EIGHTFLOW_WORKER_START=spawn`` starts them fresh instead.

- Each worker enters the flow run's Prefect context (``prefect.context.serialize_context``,
  as Prefect's ``ProcessPoolTaskRunner`` does), so every document is still a task run of
  the batch's flow run in the UI, with its state and retries.
- Each worker records its documents' runs in the ledger itself and sends each outcome
  (steps and calls included) to the flow's process, whose sinks write results and
  trace.jsonl as in one process.
- Bounds hold batch-wide (:mod:`eightflow.batch.shared_bounds`): concurrency and rpm are
  split into shares, the budget is shared memory under one lock.
- A worker that dies leaves the documents it had taken listed as unprocessed, never lost.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue as queue_module
import resource
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eightflow.batch.fork_imports import quiet_imports, warn_busy_fork
from eightflow.batch.models import BatchOptions, DocumentOutcome
from eightflow.batch.shared_bounds import (
    BudgetCell,
    SharedBudget,
    batch_wide,
    split,
    split_rpm,
)
from eightflow.runtime.gc_batch import batch_gc
from eightflow.runtime.limiter import CallLimiter
from eightflow.runtime.worker_exit import run_worker_exit_hooks

if TYPE_CHECKING:
    # The runner passes itself (and, to a child process, its class) in: this module never
    # imports runner.py, which imports it.
    BatchRunner = Any

MAX_DEFAULT_WORKERS = 4
DOCUMENTS_PER_WORKER = 100  # below this many documents per process, a second one is not worth it
# Measured on 2 cores, 1,000 documents, 100 ms answers: a second process paid at 32 calls in
# flight (22.4 -> 18.6 s) and still at 8 (58.8 -> 56.4 s).
CALLS_PER_WORKER = 4


def default_workers(concurrency: int, documents: int | None, cores: int | None = None) -> int:
    """One process per core (capped) when the batch is large and wide enough to use it."""
    cores = cores or os.cpu_count() or 1
    by_documents = (documents // DOCUMENTS_PER_WORKER) if documents is not None else cores
    return max(1, min(cores, MAX_DEFAULT_WORKERS, concurrency // CALLS_PER_WORKER, by_documents))


def start_method() -> str:
    """``fork`` where available (no second start-up), unless the operator says ``spawn``."""
    from eightflow.settings import get_settings

    chosen = get_settings().worker_start
    if chosen is None:
        chosen = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return chosen


def _cpu_s(usage: Any) -> float:
    return round(float(usage.ru_utime + usage.ru_stime), 3)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to rebuild its part of the batch (picklable, for ``spawn``)."""

    index: int
    workflow: str
    options: dict[str, Any]
    root: str
    loader: Callable[[Path, Path], Any]
    batch_id: str | None
    out_dir: str | None
    prefect_context: bytes
    parent: int  # the flow's process


async def _consume(
    runner: BatchRunner,
    paths: Any,
    consumers: int,
    emit: Callable[[str, DocumentOutcome], None],
    parent: int | None = None,
) -> None:
    """``consumers`` coroutines taking paths from the shared queue through one pump thread.

    A worker process passes its parent's pid: if the flow's process dies, the worker takes
    no new document and ends once those it holds are done, instead of waiting forever.
    """
    loop = asyncio.get_running_loop()
    local: asyncio.Queue[str | None] = asyncio.Queue(maxsize=consumers)

    def pump() -> None:
        while True:
            try:
                item = paths.get(timeout=1.0)
            except queue_module.Empty:
                if parent is None or os.getppid() == parent:
                    continue
                item = None  # the flow's process is gone (kill -9): finish what is in hand
            asyncio.run_coroutine_threadsafe(local.put(item), loop).result()
            if item is None:
                for _ in range(consumers - 1):
                    asyncio.run_coroutine_threadsafe(local.put(None), loop).result()
                return

    deferred: list[tuple[Path, DocumentOutcome]] = []

    async def consume() -> None:
        while (item := await local.get()) is not None:
            outcome = await runner.safe_process(Path(item))
            if outcome.transient and runner.options.final_pass_s > 0:
                deferred.append((Path(item), outcome))  # its row waits for the final pass
            else:
                emit(item, outcome)

    pump_thread = threading.Thread(target=pump, name="eightflow-paths", daemon=True)
    pump_thread.start()
    await asyncio.gather(*(consume() for _ in range(consumers)))
    await asyncio.to_thread(pump_thread.join)
    if deferred:  # this process's transient failures get the batch's final pass here
        path_of = {outcome.id: str(path) for path, outcome in deferred}
        await runner._final_pass(deferred, lambda o: emit(path_of.get(o.id, o.path), o))


def _worker_main(
    spec: WorkerSpec, paths: Any, outcomes: Any, cell: BudgetCell, runner_cls: Any
) -> None:
    """A worker process: the flow run's context, its share of the bounds, its documents.

    ``runner_cls`` is the parent's runner class (pickled by reference).
    """
    import cloudpickle
    from prefect.context import AsyncClientContext, hydrated_context

    from eightflow.registry import load_workflow

    error = None
    unrecorded: tuple[int, str | None] = (0, None)  # ledger runs this process could not record
    try:
        options = BatchOptions.model_validate(spec.options)
        with hydrated_context(cloudpickle.loads(spec.prefect_context)):
            workflow = load_workflow(spec.workflow)(
                model=options.model, api_base=options.api_base, review_below=options.review_below
            )
            runner = runner_cls(workflow, options, (), Path(spec.root), spec.loader)
            runner.budget = SharedBudget(cell, runner.budget.max_tokens, runner.budget.max_cost_usd)
            runner.budget, runner.limiter = batch_wide(
                runner.budget, runner.limiter, options.batch_key
            )
            runner.batch_id = spec.batch_id
            runner.out_dir = spec.out_dir
            # Its rows go to the flow's process: each waits until its ledger run is in.
            runner.cached_runs.wait = True

            def send(path: str, outcome: DocumentOutcome) -> None:
                outcomes.put(("outcome", path, outcome.model_dump_json(), spec.index))

            async def main() -> None:
                nonlocal unrecorded
                # One Prefect client for every task run of this process: without it each
                # document's task run opened its own (an SSL context, ~40 ms of CPU each).
                try:
                    async with AsyncClientContext.get_or_create():
                        await _consume(
                            runner, paths, runner.documents_in_flight(), send, parent=spec.parent
                        )
                finally:
                    await runner.finish_store()
                    unrecorded = (runner.summary.ledger_unrecorded, runner.summary.ledger_error)

            try:
                with batch_gc():  # inherited when forked; set here when spawned
                    asyncio.run(main())
            finally:
                closing = run_worker_exit_hooks()  # its own process pools, while all is well
                if closing and error is None:
                    error = "closing: " + "; ".join(closing)
    except BaseException as exc:  # reported to the flow's process, which lists the rest
        error = f"{type(exc).__name__}: {exc}"
    usage = resource.getrusage(resource.RUSAGE_SELF)
    outcomes.put(("done", spec.index, usage.ru_maxrss / 1024, error, _cpu_s(usage), unrecorded))


class WorkerPool:
    """The flow's process as worker 0, plus ``workers - 1`` worker processes."""

    def __init__(self, runner: BatchRunner, workers: int, workflow_name: str) -> None:
        self.runner = runner
        self.workers = workers
        self.workflow_name = workflow_name
        self.peak_rss_mb: list[float] = []
        self.documents = [0] * workers  # outcomes each process sent
        self.cpu_s = [0.0] * workers  # CPU each worker process used, start-up included
        self.errors: list[str] = []

    async def run(self) -> None:
        import cloudpickle
        from prefect.context import serialize_context

        runner, options = self.runner, self.runner.options
        forked = start_method() == "fork"
        ctx = (
            multiprocessing.get_context("fork") if forked else multiprocessing.get_context("spawn")
        )
        if forked:  # once here, shared by every worker, rather than imported in each
            from eightflow.gateway import load_litellm

            load_litellm()
        cell = BudgetCell(ctx)
        runner.budget = SharedBudget(cell, runner.budget.max_tokens, runner.budget.max_cost_usd)
        shares = split(options.concurrency, self.workers)
        rpms = split_rpm(options.rpm, len(shares))
        runner.limiter = CallLimiter(shares[0], rpms[0])
        runner.budget, runner.limiter = batch_wide(runner.budget, runner.limiter, options.batch_key)
        paths, outcomes = ctx.Queue(), ctx.Queue()
        context = cloudpickle.dumps(serialize_context())
        processes = []
        for index in range(1, len(shares)):
            share = options.model_copy(
                update={"concurrency": shares[index], "rpm": rpms[index], "shard_count": 1}
            )
            spec = WorkerSpec(
                index=index,
                workflow=self.workflow_name,
                options=share.model_dump(mode="json"),
                root=str(runner.root),
                loader=runner.loader,
                batch_id=runner.batch_id,
                out_dir=getattr(runner, "out_dir", None),
                prefect_context=context,
                parent=os.getpid(),
            )
            process = ctx.Process(
                target=_worker_main,
                args=(spec, paths, outcomes, cell, type(runner)),
                name=f"eightflow-worker-{index}",
                # Not a daemon: a worker parses PDF, DOCX and HTML in the loader sandbox, a
                # process pool of its own, and daemonic processes may not have children.
                # The pool stops its workers itself (below), and a worker whose flow
                # process was killed ends by itself (``_consume``).
                daemon=False,
            )
            with quiet_imports() as busy:  # a fork copies no half-done import
                process.start()
            if busy:  # said after the import lock is let go (a log handler may import)
                warn_busy_fork(process.name, busy)
            processes.append(process)
        own_consumers = shares[0] * 2
        fed: dict[str, None] = {}
        done: set[str] = set()
        loop = asyncio.get_running_loop()

        def feed() -> None:
            for path in runner._shard(runner.paths):
                fed[str(path)] = None
                paths.put(str(path))
            for _ in shares:  # one end mark per process: its pump thread stops there
                paths.put(None)

        def emit_here(path: str, outcome: DocumentOutcome, worker: int = 0) -> None:
            done.add(path)
            self.documents[worker] += 1
            runner._emit(outcome)

        def collect() -> None:
            """Outcomes of worker processes, until each has said it is done (or died)."""
            remaining = {p.name: p for p in processes}
            while remaining:
                try:
                    message = outcomes.get(timeout=1.0)
                except queue_module.Empty:
                    for name, process in list(remaining.items()):
                        if not process.is_alive():
                            # Died without a word (killed): its "done" will never come.
                            self.errors.append(f"{name} exited with code {process.exitcode}")
                            remaining.pop(name)
                    continue
                if message[0] == "outcome":
                    outcome = DocumentOutcome.model_validate_json(message[2])
                    loop.call_soon_threadsafe(emit_here, message[1], outcome, message[3])
                else:
                    _, index, rss_mb, error, cpu_s, (unrecorded, ledger_error) = message
                    if unrecorded:
                        runner.summary.ledger_unrecorded += unrecorded
                        runner.summary.ledger_error = runner.summary.ledger_error or ledger_error
                    self.peak_rss_mb.append(rss_mb)
                    self.cpu_s[index] = cpu_s
                    if error:
                        self.errors.append(f"eightflow-worker-{index}: {error}")
                    remaining.pop(f"eightflow-worker-{index}", None)

        feeder = threading.Thread(target=feed, name="eightflow-feed", daemon=True)
        feeder.start()
        try:
            collector = asyncio.ensure_future(asyncio.to_thread(collect))
            await _consume(runner, paths, own_consumers, emit_here)
            await collector
            await asyncio.to_thread(feeder.join)
            for process in processes:
                await asyncio.to_thread(process.join, 30)
        finally:
            for process in processes:  # cancelled, failed, or a worker that would not end
                if process.is_alive():
                    process.terminate()
        await asyncio.sleep(0)  # outcomes handed over by call_soon_threadsafe land first
        for path in fed:
            if path not in done:  # taken by a worker that died
                runner._emit(
                    DocumentOutcome(
                        id=runner._doc_id(Path(path)),
                        path=path,
                        status="unprocessed",
                        error="its worker process ended early: " + "; ".join(self.errors),
                    )
                )
        self.peak_rss_mb.insert(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
