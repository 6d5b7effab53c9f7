"""A wave's lines: the calls that wait on one provider batch line, and their answers.

Calls with the same request (the same ``custom_id``) share a line: the provider answers it
once and the first caller pays. :func:`split_into_files` packs lines into files within the
provider's limits; :func:`answer_lines` turns a finished batch's results into each
caller's answer (a response priced at the batch rate, or "go online" for a line that
failed or expired). The router that forms waves is :mod:`eightflow.batch.waves`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from eightflow.runtime.budget import Budget, Reservation


@dataclass
class Call:
    """One model call held by the router, and the future its caller awaits."""

    custom_id: str
    request: dict[str, Any]
    model: str
    document: str
    step: str
    run_id: str
    future: asyncio.Future[Any]


@dataclass
class Answer:
    """A line's response for one caller, with the reservation it settles."""

    response: Any
    reservation: Reservation
    note: dict[str, Any]


@dataclass
class Online:
    """No batch answer for this caller: its attempt goes online."""

    note: dict[str, Any]


@dataclass
class Line:
    """The calls of one batch line (one request), and its batch-rate reservation."""

    custom_id: str
    calls: list[Call]
    reservation: Reservation = field(default_factory=lambda: Reservation(0, 0.0))

    @property
    def request(self) -> dict[str, Any]:
        return self.calls[0].request


def answer_lines(
    chunk: list[Line],
    results: dict[str, Any],
    state: str,
    note: dict[str, Any],
    budget: Budget,
    online: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """Answer the callers of each line of a batch that ended in ``state``, from its
    ``results``; returns each line's ledger row.

    A line with an answer: its first caller gets the response priced at the batch rate and
    settles the line's reservation, the others the same response at no cost. A line
    without one: its reservation is freed, why is kept in ``online`` (by ``custom_id``, so
    the next attempt goes online at once) and every caller is told to go online.
    """
    from eightflow.gateway.batches import batch_costs, response_from_body

    model = chunk[0].calls[0].model
    rows: dict[str, dict[str, Any]] = {}
    for line in chunk:
        result = results.get(line.custom_id)
        line_note = dict(note)
        if result is None or result.body is None:
            why = (result.error if result else None) or online.get(line.custom_id, f"batch {state}")
            budget.release(line.reservation)
            online[line.custom_id] = why
            rows[line.custom_id] = {"status": "retried_online", "error": why}
            for call in line.calls:
                call.future.set_result(Online({**line_note, "line_error": why, "online": True}))
            continue
        usage = result.body.get("usage") or {}
        tokens_in = int(usage.get("prompt_tokens") or 0)
        tokens_out = int(usage.get("completion_tokens") or 0)
        cost, online_cost = batch_costs(model, tokens_in, tokens_out)
        rows[line.custom_id] = {
            "status": "completed",
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "cost_usd": cost,
            "online_cost_usd": online_cost,
        }
        line_note.update(cost_usd=cost, online_cost_usd=online_cost)
        for index, call in enumerate(line.calls):  # the first owner pays, once
            paid = cost if index == 0 else 0.0
            reservation = line.reservation if index == 0 else Reservation(0, 0.0)
            response = response_from_body(result.body, paid)
            call.future.set_result(Answer(response, reservation, dict(line_note)))
    return rows


def split_into_files(lines: list[Line]) -> list[list[Line]]:
    """Files within the provider's limits on lines and bytes."""
    from eightflow.gateway.batches import MAX_BYTES_PER_FILE, MAX_LINES_PER_FILE

    parts: list[list[Line]] = [[]]
    size = 0
    for line in lines:
        length = len(json.dumps(line.request.get("messages"), default=str)) + 512
        full = len(parts[-1]) >= MAX_LINES_PER_FILE or size + length > MAX_BYTES_PER_FILE
        if parts[-1] and full:
            parts.append([])
            size = 0
        parts[-1].append(line)
        size += length
    return [p for p in parts if p]


def simulated(request: dict[str, Any]) -> bool:
    """A call to the simulated local provider: never in a provider's batch to resume."""
    return str(request.get("model", "")).startswith("local/")
