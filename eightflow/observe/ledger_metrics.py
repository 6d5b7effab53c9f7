"""Metrics across runs, read from the ledger: success, failures, latency, tokens and cost.

``MetricsCollector`` summarises the runs one process saw; this module answers the same
questions for every run the ledger kept, across processes and days ("what did this cost
last week?", "which step is slow?", "did prompt v2 change anything?").

Conventions, the same everywhere in the report:

* A run succeeded when its status is ``completed``; every other status is a failure,
  counted under its ``error_type`` (or its status when it has none).
* Latency percentiles are over *completed* steps (as in ``MetricsCollector``), linearly
  interpolated by :func:`eightflow.observe.stats.percentile`.
* A cost sum is ``None``, never 0, when any value it adds up is NULL (an unpriced model):
  a partial sum would understate the spend.
* Documents are runs with a ``document_id`` (batch documents and single runs of a file).
  ``cost_per_document_usd`` divides the cost of those runs by their number;
  ``cost_per_successful_document_usd`` divides the same cost by the documents that
  succeeded, so the spend on failures is charged to the results that came out.
* ``cache_hit_rate`` is calls answered from the response cache over all recorded calls.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from eightflow.observe.stats import percentile
from eightflow.store.ledger import Ledger

Dimension = Literal["step", "model", "prompt", "version"]
DIMENSIONS: tuple[str, ...] = ("step", "model", "prompt", "version")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``"30m"``, ``"24h"``, ``"7d"``, ``"2w"``, ``"90s"`` as a timedelta."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"'{text}' is not a duration like 30m, 24h, 7d or 2w")
    value, unit = float(match[1]), match[2].lower()
    if value <= 0:
        raise ValueError(f"'{text}': the duration must be positive")
    return timedelta(**{_UNITS[unit]: value})


def sum_cost(values: Iterable[float | None]) -> float | None:
    """The sum, or None when any value is unknown (an empty sum is 0.0)."""
    total = 0.0
    for value in values:
        if value is None:
            return None
        total += float(value)
    return total


def _ratio(numerator: float | None, denominator: float) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _latencies(rows: Iterable[dict[str, Any]]) -> dict[str, float | None]:
    values = [
        float(r["duration_ms"])
        for r in rows
        if r["status"] == "completed" and r["duration_ms"] is not None
    ]
    return {
        "p50_ms": percentile(values, 50),
        "p95_ms": percentile(values, 95),
        "p99_ms": percentile(values, 99),
    }


def _hit_rate(calls: list[dict[str, Any]]) -> float | None:
    return sum(bool(c["cache_hit"]) for c in calls) / len(calls) if calls else None


def grounded_rate(steps: Iterable[dict[str, Any]]) -> float | None:
    """Checked model answers found in their document, over checked answers (steps whose
    trace notes hold a grounding check; see :mod:`eightflow.review.grounding_rule`)."""
    checked = [int(s["grounded"]) for s in steps if s.get("grounded") is not None]
    return sum(checked) / len(checked) if checked else None


def _tokens(rows: Iterable[dict[str, Any]], column: str) -> int:
    return sum(int(r[column] or 0) for r in rows)


def _selected_runs(
    ledger: Ledger, workflow: str | None, cutoff: datetime | None
) -> list[dict[str, Any]]:
    sql = (
        "SELECT rowid AS seq_, run_id, workflow, version, status, started, duration_ms, "
        "cost_usd, tokens_in, tokens_out, error_type, document_id, model FROM runs"
    )
    params: tuple[Any, ...] = ()
    if workflow is not None:
        sql += " WHERE workflow = ?"
        params = (workflow,)
    rows = ledger.query(sql + " ORDER BY started, seq_", params)
    if cutoff is None:
        return rows
    kept = []
    for row in rows:
        started = _parse_time(row["started"])
        if started is not None and started >= cutoff:
            kept.append(row)
    return kept


def _children(
    ledger: Ledger, table: str, columns: str, workflow: str | None, run_ids: set[str]
) -> list[dict[str, Any]]:
    """Rows of ``steps`` or ``calls`` belonging to the selected runs, in insertion order."""
    sql = f"SELECT t.rowid AS seq_, {columns} FROM {table} t JOIN runs r ON r.run_id = t.run_id"
    params: tuple[Any, ...] = ()
    if workflow is not None:
        sql += " WHERE r.workflow = ?"
        params = (workflow,)
    return [row for row in ledger.query(sql + " ORDER BY seq_", params) if row["run_id"] in run_ids]


def _step_rows(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in steps:  # insertion order: the workflow's own step order
        by_name.setdefault(row["name"], []).append(row)
    return [
        {
            "name": name,
            "runs": len(rows),
            **_latencies(rows),
            "tokens_in": _tokens(rows, "tokens_in"),
            "tokens_out": _tokens(rows, "tokens_out"),
            "cost_usd": sum_cost(r["cost_usd"] for r in rows),
            "failures": sum(r["status"] == "failed" for r in rows),
        }
        for name, rows in by_name.items()
    ]


def _call_prompt(call: dict[str, Any]) -> str | None:
    if call["prompt_id"] is None:
        return None
    return f"{call['prompt_id']}@v{call['prompt_version']}"


def _groups(
    by: str,
    runs: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    calls: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The split by model, prompt or version.

    ``version`` groups runs (unit "run": success, latency and cost of whole runs);
    ``model`` and ``prompt`` group the steps that used one (unit "step"), since one run
    can use several models and prompts. Steps without a model or prompt are left out.
    """
    groups: list[dict[str, Any]] = []
    if by == "version":
        steps_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        calls_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for step in steps:
            steps_of[step["run_id"]].append(step)
        for call in calls:
            calls_of[call["run_id"]].append(call)
        by_version: dict[str, list[dict[str, Any]]] = {}
        for run in runs:
            by_version.setdefault(run["version"], []).append(run)
        for version, members in by_version.items():
            member_calls = [c for r in members for c in calls_of[r["run_id"]]]
            groups.append(
                {
                    "key": version,
                    "unit": "run",
                    "runs": len(members),
                    "steps": sum(len(steps_of[r["run_id"]]) for r in members),
                    "success_rate": sum(r["status"] == "completed" for r in members) / len(members),
                    "failures": sum(r["status"] != "completed" for r in members),
                    "cost_usd": sum_cost(r["cost_usd"] for r in members),
                    **_latencies(members),
                    "tokens_in": _tokens(members, "tokens_in"),
                    "tokens_out": _tokens(members, "tokens_out"),
                    "calls": len(member_calls),
                    "cache_hit_rate": _hit_rate(member_calls),
                    "grounded_rate": grounded_rate(
                        s for r in members for s in steps_of[r["run_id"]]
                    ),
                }
            )
        return groups
    step_key = "model" if by == "model" else "prompt"
    by_key: dict[str, list[dict[str, Any]]] = {}
    for step in steps:
        if step[step_key] is not None:
            by_key.setdefault(step[step_key], []).append(step)
    calls_by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for call in calls:
        key = call["model"] if by == "model" else _call_prompt(call)
        if key is not None:
            calls_by_key[key].append(call)
    for key, members in by_key.items():
        groups.append(
            {
                "key": key,
                "unit": "step",
                "runs": len({s["run_id"] for s in members}),
                "steps": len(members),
                "success_rate": sum(s["status"] == "completed" for s in members) / len(members),
                "failures": sum(s["status"] == "failed" for s in members),
                "cost_usd": sum_cost(s["cost_usd"] for s in members),
                **_latencies(members),
                "tokens_in": _tokens(members, "tokens_in"),
                "tokens_out": _tokens(members, "tokens_out"),
                "calls": len(calls_by_key[key]),
                "cache_hit_rate": _hit_rate(calls_by_key[key]),
                "grounded_rate": grounded_rate(members),
            }
        )
    return groups


def _workflow_report(
    name: str,
    runs: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    calls: list[dict[str, Any]],
    by: str | None,
) -> dict[str, Any]:
    documents = [r for r in runs if r["document_id"] is not None]
    successful_documents = sum(r["status"] == "completed" for r in documents)
    cost = sum_cost(r["cost_usd"] for r in runs)
    document_cost = sum_cost(r["cost_usd"] for r in documents)
    return {
        "name": name,
        "runs": len(runs),
        "documents": len(documents),
        "success_rate": sum(r["status"] == "completed" for r in runs) / len(runs),
        "failure_reasons": dict(
            Counter(r["error_type"] or r["status"] for r in runs if r["status"] != "completed")
        ),
        "cost_usd": cost,
        "cost_per_run_usd": _ratio(cost, len(runs)),
        "cost_per_document_usd": _ratio(document_cost, len(documents)),
        "cost_per_successful_document_usd": _ratio(document_cost, successful_documents),
        "cache_hit_rate": _hit_rate(calls),
        "grounded_rate": grounded_rate(steps),
        "tokens_in": _tokens(runs, "tokens_in"),
        "tokens_out": _tokens(runs, "tokens_out"),
        "steps": _step_rows(steps),
        "groups": _groups(by, runs, steps, calls) if by in ("model", "prompt", "version") else [],
    }


def ledger_report(
    ledger: Ledger,
    workflow: str | None = None,
    since: timedelta | None = None,
    by: Dimension | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Per-workflow success, failures, cost, cache use, tokens and step latency.

    ``since`` keeps runs started within that long before ``now`` (default: the current
    time). ``by`` splits each workflow: ``step`` is the ``steps`` list itself; ``model``,
    ``prompt`` and ``version`` fill ``groups``. Returns plain JSON-able data::

        {"workflows": [{"name", "runs", "documents", "success_rate", "failure_reasons",
                        "cost_usd", "cost_per_run_usd", "cost_per_document_usd",
                        "cost_per_successful_document_usd", "cache_hit_rate",
                        "grounded_rate",
                        "tokens_in", "tokens_out", "steps": [...], "groups": [...]}],
         "since": "<iso cutoff>" | None}
    """
    if by is not None and by not in DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}, not '{by}'")
    cutoff = (now or datetime.now(UTC)) - since if since is not None else None
    if cutoff is not None and cutoff.tzinfo is None:
        cutoff = cutoff.replace(tzinfo=UTC)
    runs = _selected_runs(ledger, workflow, cutoff)
    run_ids = {r["run_id"] for r in runs}
    steps = _children(
        ledger,
        "steps",
        "t.run_id, t.name, t.status, t.duration_ms, t.model, t.prompt, t.tokens_in, "
        "t.tokens_out, t.cost_usd, r.workflow, "
        "json_extract(t.notes, '$.grounding.grounded') AS grounded",
        workflow,
        run_ids,
    )
    calls = _children(
        ledger,
        "calls",
        "t.run_id, t.step, t.model, t.prompt_id, t.prompt_version, t.cache_hit, t.cost_usd, "
        "r.workflow",
        workflow,
        run_ids,
    )
    names = sorted({r["workflow"] for r in runs})
    reports = [
        _workflow_report(
            name,
            [r for r in runs if r["workflow"] == name],
            [s for s in steps if s["workflow"] == name],
            [c for c in calls if c["workflow"] == name],
            by,
        )
        for name in names
    ]
    return {"workflows": reports, "since": cutoff.isoformat() if cutoff else None}


def cost_per_day(
    ledger: Ledger,
    workflow: str | None = None,
    since: timedelta | None = None,
    *,
    now: datetime | None = None,
) -> list[tuple[date, float | None]]:
    """Spend per UTC day, oldest first, with days without runs as 0.0.

    A day's cost is None when any of its runs is unpriced.
    """
    cutoff = (now or datetime.now(UTC)) - since if since is not None else None
    if cutoff is not None and cutoff.tzinfo is None:
        cutoff = cutoff.replace(tzinfo=UTC)
    by_day: dict[date, list[float | None]] = defaultdict(list)
    for run in _selected_runs(ledger, workflow, cutoff):
        started = _parse_time(run["started"])
        if started is not None:
            by_day[started.astimezone(UTC).date()].append(run["cost_usd"])
    if not by_day:
        return []
    first, last = min(by_day), max(by_day)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [(day, sum_cost(by_day.get(day, []))) for day in days]
