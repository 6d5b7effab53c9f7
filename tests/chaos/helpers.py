"""Shared pieces of the chaos suite: running a batch in-process and reading what it left."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

MODEL = "openai/gpt-4o-mini"
MODEL_STEPS = ("summarization", "topic_extraction", "sentiment", "entities")
CALLS_PER_DOC = len(MODEL_STEPS)
TIMING_COLUMNS = {"duration_ms"}
# A resumed document is served from the cache: its cost this run is 0 and cache_hit is
# true. Everything else must match an uninterrupted run.
RUN_ACCOUNTING_COLUMNS = {"cost_usd", "cache_hit"}


async def run_batch(folder: Path, out: Path, **options: Any) -> tuple[Any, dict[str, Any]]:
    """The batch flow, in this process; returns its final state and its brief."""
    from eightflow.testing.operator_env import operator_env
    from flows.batch_documents import BatchParams, batch_documents

    api_base = options.pop("api_base", None)
    params = BatchParams(folder=str(folder), out=str(out), **options)
    with operator_env(api_base, params.model):  # the test is the operator
        state = await batch_documents(**params.flow_parameters(), return_state=True)
    brief = await state.result(raise_on_failure=False)
    assert isinstance(brief, dict), f"flow crashed: {state.message}: {brief!r}"
    return state, brief


def read_rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_id = {row["id"]: row for row in rows}
    assert len(by_id) == len(rows), "duplicate ids in results.csv"
    return by_id


def comparable(out: Path) -> dict[str, dict[str, str]]:
    skip = TIMING_COLUMNS | RUN_ACCOUNTING_COLUMNS
    return {k: {c: v for c, v in row.items() if c not in skip} for k, row in read_rows(out).items()}


def read_trace(out: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(step lines, event lines) of trace.jsonl."""
    lines = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    return [t for t in lines if "event" not in t], [t for t in lines if "event" in t]


def traced_requests(out: Path) -> int:
    """Model requests the trace records (every attempt, failed ones included)."""
    steps, _ = read_trace(out)
    return sum(1 for t in steps for c in t.get("calls") or [] if not c["cache_hit"])


def ledger_requests(home: Path, batch_id: str) -> int:
    with sqlite3.connect(home / "ledger.sqlite") as db:
        row = db.execute(
            "SELECT COUNT(*) FROM calls JOIN runs USING (run_id) "
            "WHERE runs.batch_id = ? AND calls.cache_hit = 0",
            (batch_id,),
        ).fetchone()
    return int(row[0])
