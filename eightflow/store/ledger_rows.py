"""A ledger run as rows: one tuple per run, planning round, step and call.

The ledger's writer thread commits runs in groups (a batch's documents served from cache
go 256 at a time): their rows are built here, table by table, and written with one
``executemany`` per table instead of a statement per row.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from eightflow.runtime.records import WorkflowResult
from eightflow.safety.sanitize import sanitize
from eightflow.safety.sanitize_memo import SanitizeMemo
from eightflow.store.recorded_inputs import recorded_answer


@dataclass
class RunRows:
    """The rows of a group of runs, table by table, for one ``executemany`` each."""

    runs: list[tuple[Any, ...]] = field(default_factory=list)
    planning: list[tuple[Any, ...]] = field(default_factory=list)
    steps: list[tuple[Any, ...]] = field(default_factory=list)
    calls: list[tuple[Any, ...]] = field(default_factory=list)


def insert_runs(
    db: sqlite3.Connection,
    runs: list[tuple[WorkflowResult, dict[str, Any]]],
    memo: SanitizeMemo,
) -> None:
    """Runs with their planning rounds, steps and calls: one statement per table.

    A run recorded again replaces its rows; recorded twice in one group, its later
    version is kept, as two commits one after the other would leave it.
    """
    latest = {result.run_id: (result, details) for result, details in runs}
    rows = RunRows()
    for result, details in latest.values():
        rows_of(rows, result, memo, **details)
    ids = [(run_id,) for run_id in latest]
    db.executemany(
        """INSERT OR REPLACE INTO runs (run_id, workflow, version, status, started,
        finished, duration_ms, cost_usd, tokens_in, tokens_out, model_calls,
        error_type, error, flow_run_id, document_id, batch_id, document_sha256,
        cache_hits, inputs, criteria, model)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        rows.runs,
    )
    for table in ("planning", "steps", "calls"):
        db.executemany(f"DELETE FROM {table} WHERE run_id = ?", ids)
    db.executemany(
        """INSERT INTO planning (run_id, round, prompt, rationale, plan, done,
        accepted, rejected, replans, error, duration_ms)
        VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
        rows.planning,
    )
    db.executemany(
        """INSERT INTO steps (run_id, name, status, attempts, started, duration_ms,
        model, prompt, prompt_hash, tokens_in, tokens_out, cost_usd, error_type,
        error, task_run_id, input_excerpt, output_digest, notes, fallback_model)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        rows.steps,
    )
    db.executemany(
        """INSERT INTO calls (run_id, step, seq, model, provider, prompt_id,
        prompt_version, prompt_hash, tokens_in, tokens_out, tokens_cached,
        cost_usd, latency_ms, attempt, started, error_type, error, cache_hit,
        output_digest, response)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        rows.calls,
    )


def rows_of(
    rows: RunRows,
    result: WorkflowResult,
    memo: SanitizeMemo,
    *,
    batch_id: str | None = None,
    document_id: str | None = None,
    document_sha256: str | None = None,
    inputs: dict[str, Any] | None = None,
    model: str | None = None,
    cache_hits: int = 0,
    served_from_cache: bool = False,
) -> None:
    """``served_from_cache``: a document's stored outcome, recorded again for this
    batch: its steps and calls cost nothing this time and every call is a hit."""
    memo.refresh()
    text = memo.text
    rows.runs.append(
        (
            result.run_id,
            result.workflow,
            result.version,
            result.status,
            result.started.isoformat(),
            result.finished.isoformat(),
            result.duration_ms,
            result.cost_usd,
            result.tokens.input,
            result.tokens.output,
            result.model_calls,
            result.error_type,
            text(result.error or "", 1000) or None,
            result.flow_run_id,
            document_id,
            batch_id,
            document_sha256,
            cache_hits,
            json.dumps(sanitize(inputs, limit=None), default=str) if inputs else None,
            json.dumps({"failed": result.failed_criteria}),
            model,
        )
    )
    for entry in result.planning or []:
        rows.planning.append(
            (
                result.run_id,
                entry["round"],
                entry.get("prompt"),
                text(entry.get("rationale") or "", 2000),
                json.dumps(sanitize(entry.get("plan"), limit=500)),
                int(bool(entry.get("done"))),
                json.dumps(entry.get("accepted")),
                json.dumps(sanitize(entry.get("rejected"), limit=500)),
                entry.get("replans"),
                text(str(entry.get("error") or ""), 500) or None,
                entry.get("duration_ms"),
            )
        )
    for step in result.steps:
        rows.steps.append(
            (
                result.run_id,
                step.name,
                step.status,
                step.attempts,
                step.started.isoformat() if step.started else None,
                step.duration_ms,
                step.model,
                step.prompt,
                step.prompt_hash,
                step.tokens_in,
                step.tokens_out,
                0.0 if served_from_cache else step.cost_usd,
                step.error_type,
                text(step.error or "", 500) or None,
                step.task_run_id,
                text(step.input or "", 300) or None,
                ",".join(c.output_digest or "" for c in step.calls) or None,
                # Notes quote provider errors (a batch line's): sanitized like the rest.
                json.dumps(memo.walk(step.notes, 500)) if step.notes else None,
                step.fallback_model,
            )
        )
        for seq, call in enumerate(step.calls):
            rows.calls.append(
                (
                    result.run_id,
                    step.name,
                    seq,
                    call.model,
                    call.provider,
                    call.prompt_id,
                    call.prompt_version,
                    call.prompt_hash,
                    call.tokens_in,
                    call.tokens_out,
                    call.tokens_cached,
                    0.0 if served_from_cache else call.cost_usd,
                    call.latency_ms,
                    call.attempt,
                    call.started.isoformat(),
                    call.error_type,
                    text(call.error or "", 500) or None,
                    int(call.cache_hit or served_from_cache),
                    call.output_digest,
                    _answer(call.response_text, text),
                )
            )


def _answer(response: str | None, text: Any) -> str | None:
    """A call's answer: an excerpt and a sha256 unless full records are asked for."""
    if response is None:
        return None
    kept = recorded_answer(response)
    return text(kept, None) if kept is response else kept
