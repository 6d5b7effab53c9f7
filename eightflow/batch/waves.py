"""The wave router: model calls held until every document waits, then sent as one wave.

Each model call of a batch-api run reaches :meth:`WaveRouter.route` instead of the
model (``eightflow.gateway.batches.active_router``). When every document in flight is
waiting on a call (or has finished), the waiting calls are one wave: the router
reserves their budget at the batch rate, attaches calls already in a live provider batch
(found in the ledger by ``custom_id``), submits the rest (one model per file, within the
provider's limits), records each batch in the ledger as soon as it is accepted, polls,
and answers the callers: a response priced at the batch rate, or "go online" for a line
that failed or expired.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from eightflow.batch.wave_lines import (
    Answer,
    Call,
    Line,
    Online,
    answer_lines,
    simulated,
    split_into_files,
)
from eightflow.errors import BudgetExceeded, ModelPermanentError
from eightflow.runtime.budget import Budget, Reservation
from eightflow.runtime.run_state import current_run, current_step
from eightflow.settings import get_settings

ProgressHook = Callable[[list[dict[str, Any]]], Awaitable[None]]


class BatchStillRunning(ModelPermanentError):
    """The provider had not finished this call's batch when the run stopped waiting."""


class WaveRouter:
    """The per-batch call router (see ``eightflow.gateway.batches.active_router``)."""

    def __init__(
        self,
        budget: Budget,
        *,
        workflow: str,
        run_key: str | None,
        poll_s: float | None = None,
        max_wait_s: float = 24 * 3600,
        settle_s: float = 0.05,
        progress: ProgressHook | None = None,
        ledger: Any = None,
        refresh: bool = False,
    ) -> None:
        from eightflow.store.ledger import default_ledger

        self.budget = budget
        self.workflow = workflow
        self.run_key = run_key
        self.poll_s = poll_s if poll_s is not None else _env_poll_s()
        self.max_wait_s = max_wait_s
        self.settle_s = settle_s
        self.progress = progress
        self.refresh = refresh  # then only still-open batches are taken back, not answered ones
        self.ledger = ledger or default_ledger()
        self.wave = 0
        self.waves: list[dict[str, Any]] = []  # per wave: steps and batch ids (for tests, UI)
        self.batches: dict[str, dict[str, Any]] = {}  # batch id -> state row for progress
        self.online_retries = 0
        self.waiting: list[str] = []  # batches still open when the run stopped waiting
        self.lost: list[dict[str, Any]] = []  # earlier batches that could not be polled
        self._pending: list[Call] = []
        self._lines: dict[str, Line] = {}  # the current wave's lines
        self._blocked: dict[str, int] = defaultdict(int)
        self._active = 0
        self._online: dict[str, str] = {}  # custom_id -> why it goes online now
        self._wake = asyncio.Event()
        self._closed = False
        self._backends: dict[tuple[str, str | None], Any] = {}
        self._origins: dict[str, str | None] = {}  # resumed batch -> the run that submitted it
        self._started = time.monotonic()

    # -- what the runner and the gateway call ----------------------------------------------

    def enter_document(self) -> None:
        self._active += 1

    def leave_document(self) -> None:
        self._active -= 1
        self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    async def route(self, request: dict[str, Any], model: str) -> tuple[Any, Reservation] | None:
        from eightflow.gateway.batches import custom_id_of

        run, scope = current_run.get(), current_step.get()
        step = scope.record.name if scope else "?"
        custom_id = custom_id_of(request, step)
        if custom_id in self._online:
            return None  # its batch line failed: this attempt goes online
        run_id = run.run_id if run is not None else "-"
        call = Call(
            custom_id,
            request,
            model,
            (run.document_id if run is not None else None) or "-",
            step,
            run_id,
            asyncio.get_running_loop().create_future(),
        )
        self._pending.append(call)
        self._blocked[run_id] += 1
        self._wake.set()
        try:
            outcome = await call.future
        finally:
            self._blocked[run_id] -= 1
            if not self._blocked[run_id]:
                del self._blocked[run_id]
        if scope is not None:
            note = outcome.note if isinstance(outcome, Answer | Online) else {}
            scope.record.notes.setdefault("batch_api", []).append(note)
        if isinstance(outcome, Online):
            self.online_retries += 1
            return None
        return outcome.response, outcome.reservation

    # -- the wave loop ---------------------------------------------------------------------

    def _ready(self) -> bool:
        """Every document in flight is waiting on a call (the rest have finished)."""
        return bool(self._pending) and len(self._blocked) >= self._active

    async def serve(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._ready():
                if self._closed and not self._pending:
                    return
                continue
            seen = len(self._pending)
            await asyncio.sleep(self.settle_s)  # parallel steps register their calls
            if len(self._pending) != seen or not self._ready():
                self._wake.set()
                continue
            calls, self._pending = self._pending, []
            try:
                await self._run_wave(calls)
            except BaseException as exc:  # fail the callers, never hang them
                for line in self._lines.values():
                    if not all(call.future.done() for call in line.calls):
                        self.budget.release(line.reservation)
                for call in calls:
                    if not call.future.done():
                        call.future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise

    async def _run_wave(self, calls: list[Call]) -> None:
        from eightflow.store.provider_batches import live_batch_for

        self.wave += 1
        lines: dict[str, Line] = {}
        self._lines = lines  # for releasing reservations if the wave fails
        for call in calls:
            lines.setdefault(call.custom_id, Line(call.custom_id, [])).calls.append(call)
        self.waves.append(
            {"wave": self.wave, "steps": sorted({c.step for c in calls}), "batches": []}
        )
        resumable = [cid for cid, line in lines.items() if not simulated(line.request)]
        live = await asyncio.to_thread(
            live_batch_for, self.ledger, resumable, include_collected=not self.refresh
        )
        for line in list(lines.values()):
            if not self._reserve(line):
                del lines[line.custom_id]
        attached: dict[str, list[Line]] = defaultdict(list)
        fresh: dict[tuple[str, str | None], list[Line]] = defaultdict(list)
        for cid, line in lines.items():
            if cid in live:
                attached[live[cid]].append(line)
            else:
                fresh[(line.calls[0].model, line.request.get("api_base"))].append(line)
        jobs = [self._collect(bid, group, resumed=True) for bid, group in attached.items()]
        for group in fresh.values():
            for part, chunk in enumerate(split_into_files(group), start=1):
                batch_id = await self._submit(chunk, part)
                jobs.append(self._collect(batch_id, chunk, resumed=False))
        await asyncio.gather(*jobs)

    def _reserve(self, line: Line) -> bool:
        """Reserve the line's prompt at the batch rate; on refusal its callers get the error."""
        from eightflow.gateway.batches import batch_input_price

        if not self.budget.limited:
            return True
        request = line.request
        text = "\n".join(str(m.get("content", "")) for m in request["messages"])
        tokens = _count_tokens(line.calls[0].model, text)
        try:
            line.reservation = self.budget.reserve(
                tokens, batch_input_price(line.calls[0].model, tokens)
            )
        except BudgetExceeded as exc:
            for call in line.calls:
                call.future.set_exception(exc)
            return False
        return True

    async def _submit(self, chunk: list[Line], part: int) -> str:
        from eightflow.store.provider_batches import SubmittedBatch, record_submitted

        first = chunk[0].calls[0]
        backend = self._backend(first.model, first.request)
        metadata = {"eightflow_workflow": self.workflow, "eightflow_wave": str(self.wave)}
        batch_id, file_id = await backend.submit(
            [(line.custom_id, line.request) for line in chunk], metadata
        )
        submitted = SubmittedBatch(
            batch_id=batch_id,
            provider=backend.provider,
            model=first.model,
            input_file_id=file_id,
            wave=self.wave,
            part=part,
            run_key=self.run_key,
            workflow=self.workflow,
            owners={line.custom_id: [(c.document, c.step) for c in line.calls] for line in chunk},
        )
        await asyncio.to_thread(record_submitted, self.ledger, submitted, "submitted")
        self.waves[-1]["batches"].append(batch_id)
        return batch_id

    def _backend(self, model: str, request: dict[str, Any]) -> Any:
        from eightflow.gateway.batches import backend_for

        key = (model, request.get("api_base"))
        if key not in self._backends:
            api_base, api_key = request.get("api_base"), request.get("api_key")
            self._backends[key] = backend_for(model, api_base, api_key)
        return self._backends[key]

    async def _collect(self, batch_id: str, chunk: list[Line], *, resumed: bool) -> None:
        """Poll one batch to its end, then answer its lines (or send them online)."""
        from eightflow.gateway.batches import BatchStatus
        from eightflow.store.provider_batches import record_collected, update_state

        first = chunk[0].calls[0]
        backend = self._backend(first.model, first.request)
        if resumed:
            from eightflow.store.provider_batches import batch_row

            self.waves[-1]["batches"].append(batch_id)
            recorded = await asyncio.to_thread(batch_row, self.ledger, batch_id)
            self._origins[batch_id] = (recorded or {}).get("run_key")
        try:
            while True:
                status = await backend.status(batch_id)
                await self._report(batch_id, first.model, status, resumed)
                if status.done:
                    break
                if time.monotonic() - self._started > self.max_wait_s:
                    self._give_up(batch_id, chunk)
                    return
                await asyncio.sleep(self.poll_s)
            results = await backend.results(status) if status.state == "completed" else {}
        except Exception as exc:
            if not resumed:
                raise
            # A batch from an earlier run the provider no longer has (or its files expired):
            # its lines go online rather than into a second batch.
            status = BatchStatus(state="lost", batch_id=batch_id)
            results = {}
            await asyncio.to_thread(update_state, self.ledger, batch_id, "lost")
            why = f"earlier batch unavailable: {type(exc).__name__}"
            for line in chunk:
                self._online[line.custom_id] = why
            # Never silently: the batch summary lists each batch whose lines went online.
            self.lost.append(
                {"batch_id": batch_id, "lines": len(chunk), "why": why, "resent_online": True}
            )
        note = {"wave": self.wave, "batch_id": batch_id, "resumed": resumed}
        rows = answer_lines(chunk, results, status.state, note, self.budget, self._online)
        await asyncio.to_thread(record_collected, self.ledger, batch_id, rows)
        await asyncio.to_thread(
            update_state,
            self.ledger,
            batch_id,
            status.state,
            (status.total, status.completed, status.failed),
            status.output_file_id,
            status.error_file_id,
        )

    def _give_up(self, batch_id: str, chunk: list[Line]) -> None:
        self.waiting.append(batch_id)
        for line in chunk:
            self.budget.release(line.reservation)
            for call in line.calls:
                call.future.set_exception(
                    BatchStillRunning(
                        f"provider batch {batch_id} still running after {self.max_wait_s:g}s; "
                        "it stays open in the ledger and the next run collects it",
                        model=call.model,
                    )
                )

    async def _report(self, batch_id: str, model: str, status: Any, resumed: bool) -> None:
        from eightflow.store.provider_batches import update_state

        row = {
            "batch_id": batch_id,
            "wave": self.wave,
            "model": model,
            "state": status.state,
            "total": status.total,
            "completed": status.completed,
            "failed": status.failed,
            "resumed": resumed,
            "submitted_by": self._origins.get(batch_id, self.run_key),  # a flow run id
        }
        if self.batches.get(batch_id) == row:
            return
        self.batches[batch_id] = row
        if not status.done:
            counts = (status.total, status.completed, status.failed)
            await asyncio.to_thread(update_state, self.ledger, batch_id, status.state, counts)
        if self.progress is not None:
            await self.progress(list(self.batches.values()))


def cost_comparison(router: WaveRouter) -> dict[str, Any]:
    """A router's batch lines: cost at the batch rate and what online would have cost
    (summed by :func:`eightflow.store.provider_batches.cost_comparison`), with its waves."""
    from eightflow.store.provider_batches import cost_comparison as batch_line_costs

    batch_ids = [batch_id for wave in router.waves for batch_id in wave["batches"]]
    costs = batch_line_costs(router.ledger, batch_ids=batch_ids)
    return {
        "waves": [dict(w) for w in router.waves],
        "batches": len(router.batches),
        "cost_usd": costs["cost_usd"],
        "online_cost_usd": costs["online_cost_usd"],
        "unpriced_lines": costs["unpriced_lines"],
        "online_retries": router.online_retries,
        "waiting_batches": list(router.waiting),
        # Earlier batches that could not be polled: their lines were sent online, at the
        # online price (each listed with how many lines and why).
        "lost_batches": [dict(lost) for lost in router.lost],
    }


def _count_tokens(model: str, text: str) -> int:
    from eightflow.gateway import ModelGateway

    return ModelGateway().count_tokens(text, model)


def _env_poll_s() -> float:
    return max(0.01, get_settings().batch_poll_s)
