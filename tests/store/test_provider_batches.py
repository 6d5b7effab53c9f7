"""Provider batches in the ledger: live lookups by custom_id, listing, cost comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from eightflow.store.ledger import Ledger
from eightflow.store.provider_batches import (
    SubmittedBatch,
    cost_comparison,
    list_batches,
    live_batch_for,
    record_collected,
    record_submitted,
    update_state,
)


def submit(ledger: Ledger, batch_id: str, owners: dict[str, list[tuple[str, str]]]) -> None:
    batch = SubmittedBatch(
        batch_id=batch_id, provider="openai", model="openai/gpt-4o-mini",
        input_file_id=f"file-{batch_id}", wave=1, part=1, run_key="run", workflow="wf",
        owners=owners,
    )  # fmt: skip
    record_submitted(ledger, batch, "submitted")


@pytest.mark.parametrize(
    ("state", "live"),
    [("in_progress", True), ("completed", True), ("failed", False), ("expired", False),
     ("cancelled", False), ("lost", False)],
)  # fmt: skip
def test_only_live_batches_take_a_custom_id_back(tmp_path: Path, state: str, live: bool) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    submit(ledger, "b1", {"ef-1": [("a.txt", "summarization")]})
    update_state(ledger, "b1", state)
    assert live_batch_for(ledger, ["ef-1", "ef-2"]) == ({"ef-1": "b1"} if live else {})


def test_a_line_shared_by_two_documents_is_costed_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    submit(ledger, "b1", {"ef-1": [("a.txt", "sentiment"), ("copy-of-a.txt", "sentiment")],
                          "ef-2": [("b.txt", "sentiment")]})  # fmt: skip
    assert [row["batch_id"] for row in list_batches(ledger)] == ["b1"]
    line = {"status": "completed", "tokens_in": 10, "tokens_out": 5}
    record_collected(
        ledger,
        "b1",
        {
            "ef-1": {**line, "cost_usd": 1.0, "online_cost_usd": 2.0},
            "ef-2": {**line, "cost_usd": 0.5, "online_cost_usd": 1.0},
        },
    )
    update_state(ledger, "b1", "completed", (2, 2, 0))
    assert list_batches(ledger) == []  # collected: no longer open
    [row] = list_batches(ledger, open_only=False)
    assert (row["cost_usd"], row["online_cost_usd"], row["completed"]) == (1.5, 3.0, 2)
    comparison = cost_comparison(ledger)
    assert (comparison["lines"], comparison["cost_usd"], comparison["online_cost_usd"]) == (
        2, 1.5, 3.0,
    )  # fmt: skip


PRICED = {"status": "completed", "cost_usd": 1.0, "online_cost_usd": 2.0}


@pytest.mark.parametrize(
    ("lines_of_b2", "batch_ids", "expected"),
    [
        # (lines, batches, batch-rate cost, online cost, unpriced lines)
        ({"ef-3": PRICED}, None, (3, 2, 3.0, 6.0, 0)),  # the whole ledger
        ({"ef-3": PRICED}, ["b2"], (1, 1, 1.0, 2.0, 0)),  # one run's batches
        ({"ef-3": PRICED}, ["b1", "b2", "b1"], (3, 2, 3.0, 6.0, 0)),  # an id named twice
        ({"ef-3": PRICED}, [], (0, 0, 0.0, 0.0, 0)),  # a run that sent no batch
        ({"ef-3": PRICED}, ["no-such-batch"], (0, 0, 0.0, 0.0, 0)),
        # A line without a price makes its total unknown, not a sum that leaves it out.
        ({"ef-3": {**PRICED, "cost_usd": None}}, None, (3, 2, None, 6.0, 1)),
        ({"ef-3": {**PRICED, "online_cost_usd": None}}, ["b2"], (1, 1, 1.0, None, 1)),
        ({"ef-3": {**PRICED, "status": "failed"}}, None, (2, 1, 2.0, 4.0, 0)),  # not counted
    ],
)
def test_the_batch_and_online_costs_of_collected_lines(
    tmp_path: Path,
    lines_of_b2: dict[str, dict[str, object]],
    batch_ids: list[str] | None,
    expected: tuple[object, ...],
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    submit(ledger, "b1", {"ef-1": [("a.txt", "sentiment")], "ef-2": [("b.txt", "sentiment")]})
    submit(ledger, "b2", {"ef-3": [("c.txt", "sentiment")]})
    record_collected(ledger, "b1", {"ef-1": PRICED, "ef-2": PRICED})
    record_collected(ledger, "b2", lines_of_b2)
    found = cost_comparison(ledger, batch_ids=batch_ids)
    keys = ("lines", "batches", "cost_usd", "online_cost_usd", "unpriced_lines")
    assert tuple(found[k] for k in keys) == expected


def test_lines_missing_different_prices_are_each_counted(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    submit(ledger, "b1", {"ef-1": [("a.txt", "sentiment")], "ef-2": [("b.txt", "sentiment")]})
    record_collected(ledger, "b1", {"ef-1": {**PRICED, "cost_usd": None},
                                    "ef-2": {**PRICED, "online_cost_usd": None}})  # fmt: skip
    found = cost_comparison(ledger)
    assert (found["cost_usd"], found["online_cost_usd"], found["unpriced_lines"]) == (None, None, 2)


@pytest.mark.parametrize("include_collected", [True, False])
def test_refresh_takes_back_only_unread_batches(tmp_path: Path, include_collected: bool) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    submit(ledger, "read", {"ef-1": [("a.txt", "summarization")]})
    submit(ledger, "unread", {"ef-2": [("b.txt", "summarization")]})
    record_collected(ledger, "read", {"ef-1": {"status": "completed"}})
    found = live_batch_for(ledger, ["ef-1", "ef-2"], include_collected=include_collected)
    expected = {"ef-2": "unread"} | ({"ef-1": "read"} if include_collected else {})
    assert found == expected
