"""Budgets that degrade: what a batch does as its spend nears its cap (``on_budget``).

When the batch's spend reaches ``budget_switch_at`` (a share, default 0.8) of
``max_cost_usd``, the documents not yet started take another *lane* (model and mode):

- ``stop``: none; the batch carries on to the cap and stops there (the old behaviour).
- ``cheaper``: the first model of ``EIGHTFLOW_CHEAPER_MODELS`` (else the workflow's
  fallback models) whose known price is lower than the current model's. None cheaper:
  said so, and the batch carries on to the cap as with ``stop``.
- ``batch-api``: the provider's Batch API at its price (a :class:`WaveRouter` serves the
  remaining documents; documents already in flight finish online). A provider without
  one: said so, and as ``stop``.
- ``ask``: the documents in flight finish, then the flow run waits for a typed form
  (spend so far, projected total): stop, raise the cap by an amount, cheaper or batch-api
  (:mod:`eightflow.batch.budget_ask`: suspended in a deployment, paused in place without
  one, stopped with no API to answer on). A suspended run resumes from the start: the
  documents finished before come from the outcome cache, the spend before the question is
  carried over and the answers are applied before any document starts.

Every switch is a line of ``BatchSummary.budget_switches`` (the report's "Budget" section)
and a Prefect event ``eightflow.batch.budget-switch``. The spend accounting is read only
through :func:`spent_usd`, :func:`share_of_cap`, :func:`raise_cap` and :func:`carry_spend`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from eightflow.batch.budget_ask import (
    answers_before_resume,
    ask_person,
    emit_switch_event,
    form_text,
    run_logger,
)
from eightflow.runtime.budget import Budget

Mode = Literal["direct", "batch-api"]


# -- the spend accounting, read through these only ------------------------------------------


def spent_usd(budget: Budget) -> float:
    """What the batch has spent so far, in USD."""
    return budget.spent_usd


def share_of_cap(budget: Budget) -> float | None:
    """Spent so far as a share of the USD cap; None without a cap."""
    cap = budget.max_cost_usd
    if cap is None:
        return None
    return spent_usd(budget) / cap if cap > 0 else 1.0


def raise_cap(budget: Budget, amount_usd: float) -> float:
    """Raise the USD cap by ``amount_usd``; a cap crossed before is open again if the new
    one is above the spend. Returns the new cap."""
    with budget._lock:
        budget.max_cost_usd = (budget.max_cost_usd or 0.0) + amount_usd
        if budget.exhausted == "max_cost_usd" and budget.spent_usd < budget.max_cost_usd:
            budget.exhausted = None
            budget.in_flight_at_crossing = None
        return budget.max_cost_usd


def carry_spend(budget: Budget, amount_usd: float) -> None:
    """Count spend of an earlier process of the same flow run (a suspended run resumed)."""
    with budget._lock:
        budget.spent_usd += amount_usd


# -- the form a person answers ---------------------------------------------------------------


@dataclass(frozen=True)
class Lane:
    """How a document runs: its model, and direct calls or the provider's Batch API."""

    model: str
    mode: Mode
    router: Any = None  # the WaveRouter of batch-api documents


class BudgetSwitch:
    """One batch's ``on_budget`` policy: hands each document its lane, switches once due."""

    def __init__(self, runner: Any) -> None:
        """``runner``: the :class:`eightflow.batch.runner.BatchRunner` (not imported: it
        imports this module)."""
        options = runner.options
        self.runner = runner
        self.policy = options.on_budget
        self.switch_at = options.budget_switch_at
        self.budget = runner.budget
        self.lane = Lane(runner.model, "batch-api" if options.mode == "batch-api" else "direct")
        self.models = [runner.model]  # every model a lane had: cached outcomes of each count
        self.switches = runner.summary.budget_switches
        self.stopped: str | None = None
        self.asked = 0
        self.armed = self.policy != "stop" and self.budget.max_cost_usd is not None
        if self.policy != "stop" and not self.armed:  # chosen, and would silently do nothing
            run_logger().warning(
                "on_budget %s has no effect: the batch has no max_cost_usd to switch at",
                self.policy,
            )
        self._lock = asyncio.Lock()
        self._in_flight = 0
        self._drained = asyncio.Event()
        self._router: Any = None
        self._serving: asyncio.Task[None] | None = None

    # -- what the runner calls ---------------------------------------------------------------

    async def start(self) -> None:
        """Before any document: the router of a batch-api run, and decisions taken before
        a suspended run was resumed."""
        router = getattr(self.runner, "router", None)
        if router is not None:
            self.lane = Lane(self.lane.model, "batch-api", router)
        if self.armed and self.policy == "ask":
            await self._replay_answers()

    async def close(self) -> None:
        """After the last document: the Batch API router this switch started, if any."""
        if self._router is not None:
            self._router.close()
            if self._serving is not None:
                await self._serving
            self.runner.summary.batch_api = _router_summary(self._router)

    async def next_lane(self) -> Lane | None:
        """The lane of the next document; None: stop (it stays unprocessed)."""
        if self.armed and self._due():
            async with self._lock:
                if self.armed and self._due():
                    await self._switch()
        return None if self.stopped else self.lane

    @contextlib.asynccontextmanager
    async def entered(self, lane: Lane) -> AsyncIterator[None]:
        """A document running in ``lane`` (counted, so ``ask`` can wait for it to end)."""
        self._in_flight += 1
        token = None
        if lane.router is not None:
            # Only a Batch API lane needs the gateway (litellm): a document served from
            # cache must not import it.
            from eightflow.gateway.batches import active_router

            token = active_router.set(lane.router)
            lane.router.enter_document()
        try:
            yield
        finally:
            if lane.router is not None:
                lane.router.leave_document()
            if token is not None:
                active_router.reset(token)
            self._in_flight -= 1
            if not self._in_flight:
                self._drained.set()

    # -- switching ---------------------------------------------------------------------------

    def _due(self) -> bool:
        share = share_of_cap(self.budget)
        return share is not None and share >= self.switch_at

    async def _switch(self) -> None:
        cap = self.budget.max_cost_usd
        why = (
            f"spend ${spent_usd(self.budget):.6f} reached {share_of_cap(self.budget):.0%} "
            f"of the ${cap:g} cap (switch at {self.switch_at:.0%})"
        )
        if self.policy != "ask":
            self.armed = False
            self._degrade(self.policy, why)
            return
        while self._in_flight:  # the question waits for the documents already running
            self._drained.clear()
            await self._drained.wait()
        self.asked += 1
        choice, amount, via = await self._ask(why)
        self._apply(choice, amount, f"{why}; {via}")

    def _apply(self, choice: str, amount: float, why: str, replayed: bool = False) -> None:
        if choice == "raise-cap" and amount > 0:
            before = self.budget.max_cost_usd
            cap = raise_cap(self.budget, amount)
            reason = f"{why}: cap raised by ${amount:g} from ${before:g} to ${cap:g}"
            self._record(self.lane.model, self.lane.mode, reason, replayed)
            return  # still armed: asked again at the switch point of the new cap
        self.armed = False
        if choice in ("cheaper", "batch-api"):
            self._degrade(choice, why, replayed)
        else:
            self.stopped = why + (": stop" if choice == "stop" else f": {choice} without amount")
            self._record(self.lane.model, "stopped", self.stopped, replayed)

    def _degrade(self, to: str, why: str, replayed: bool = False) -> None:
        model = self.lane.model
        if to == "cheaper":
            cheaper, tried = self._cheaper_model(model)
            if cheaper is None:
                listed = ", ".join(tried) or "none configured (EIGHTFLOW_CHEAPER_MODELS)"
                reason = f"{why}; no model cheaper than {model} among: {listed}"
                self._record(model, "until-cap", reason + "; on to the cap, then stop", replayed)
                return
            self._record(cheaper, self.lane.mode, f"{why}; cheaper model", replayed)
            self.lane = Lane(cheaper, self.lane.mode, self.lane.router)
            self.models.append(cheaper)
            return
        if self.lane.mode == "batch-api":
            self._record(model, "until-cap", f"{why}; already on the Batch API", replayed)
            return
        from eightflow.gateway.batches import BatchNotSupported, check_batch_support

        try:
            check_batch_support(model)
            refused = None
        except BatchNotSupported as exc:
            refused = str(exc)
        if refused is not None:
            self._record(model, "until-cap", f"{why}; {refused}; on to the cap", replayed)
            return
        self._record(model, "batch-api", f"{why}; provider Batch API", replayed)
        self.lane = Lane(model, "batch-api", self._start_router(model))

    def _cheaper_model(self, model: str) -> tuple[str | None, list[str]]:
        from eightflow.gateway.pricing import unit_price
        from eightflow.settings import get_settings

        listed = get_settings().cheaper_models or list(self.runner.workflow.fallback_models)
        current = unit_price(model)
        tried = [m for m in listed if m != model]
        if current is None:
            return None, tried
        for candidate in tried:
            price = unit_price(candidate)
            if price is not None and price < current and self._fits_lane(candidate):
                return candidate, tried
        return None, tried

    def _fits_lane(self, model: str) -> bool:
        """A batch-api lane takes only a model whose provider has a Batch API."""
        if self.lane.mode != "batch-api":
            return True
        from eightflow.gateway.batches import BatchNotSupported, check_batch_support

        try:
            check_batch_support(model)
        except BatchNotSupported:
            return False
        return True

    def _start_router(self, model: str) -> Any:
        from eightflow.batch.waves import WaveRouter

        runner = self.runner
        self._router = WaveRouter(
            self.budget,
            workflow=runner.summary.workflow,
            run_key=runner.batch_id,
            poll_s=0.02 if model.startswith("local/") else None,
            max_wait_s=runner.options.batch_max_wait_s,
            refresh=runner.options.refresh,
        )
        self._serving = asyncio.create_task(self._router.serve())
        return self._router

    def _record(self, to_model: str, to_mode: str, reason: str, replayed: bool) -> None:
        from eightflow.safety.sanitize import sanitize_text

        # The reason quotes errors (a refused pause, a provider's refusal): it reaches the
        # log, a Prefect event, report.md and the ledger's brief, so only sanitized.
        reason = sanitize_text(reason, limit=1000)
        summary = self.runner.summary
        entry = {
            "policy": self.policy,
            "from_model": self.lane.model,
            "from_mode": self.lane.mode,
            "to_model": to_model,
            "to_mode": to_mode,  # direct | batch-api | stopped | until-cap
            "spent_usd": round(spent_usd(self.budget), 9),
            "cap_usd": self.budget.max_cost_usd,
            "documents_done": summary.total,
            "reason": reason,
            "replayed": replayed,  # decided before a suspended run was resumed
        }
        self.switches.append(entry)
        run_logger().warning("on_budget %s: %s", self.policy, reason)
        if not replayed:
            emit_switch_event(entry, self.runner.batch_id, summary.workflow)

    # -- asking a person ---------------------------------------------------------------------

    def projected_usd(self) -> float:
        """Total spend if the remaining documents cost what the finished ones did."""
        summary = self.runner.summary
        spent = spent_usd(self.budget)
        paid = summary.total - summary.cache_hits - len(summary.unprocessed)
        remaining = max((summary.expected or summary.total) - summary.total, 0)
        return spent + (spent / paid * remaining if paid else 0.0)

    async def _ask(self, why: str) -> tuple[str, float, str]:
        summary, cap = self.runner.summary, self.budget.max_cost_usd or 0.0
        description = form_text(
            summary.workflow, spent_usd(self.budget), cap, self.projected_usd(),
            f"{summary.total} of {summary.expected or '?'}",
            f"{self.lane.model} ({self.lane.mode})", why,
        )  # fmt: skip
        return await ask_person(description, self.asked, spent_usd(self.budget))

    async def _replay_answers(self) -> None:
        """A resumed run: carry the spend before the last question, apply each answer."""
        answers = await answers_before_resume()
        if answers:
            carry_spend(self.budget, answers[-1][1])
        for number, spent, answer in answers:
            if answer is None:  # unreadable (logged): this question is asked again
                break
            self.asked = number
            why = f"answered before the resume (spend then ${spent:.6f})"
            self._apply(answer.choice, float(answer.raise_cap_by_usd), why, replayed=True)
            if not self.armed:
                break


def _router_summary(router: Any) -> dict[str, Any]:
    from eightflow.batch.waves import cost_comparison

    return {**cost_comparison(router), "switched_by": "on_budget"}


def report_lines(summary: Any) -> list[str]:
    """The report's "Budget" section: one line per switch."""
    if not summary.budget_switches:
        return []
    from eightflow.safety.inert import md_cell, md_code

    lines = ["", "## Budget", ""]
    for s in summary.budget_switches:
        lines.append(
            f"- on_budget {s['policy']}, after {s['documents_done']} documents, "
            f"${s['spent_usd']:.6f} spent: {md_code(s['from_model'])} ({s['from_mode']}) -> "
            f"{md_code(s['to_model'])} ({s['to_mode']}): {md_cell(s['reason'])}"
        )
    return lines
