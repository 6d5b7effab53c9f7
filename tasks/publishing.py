"""Publishing batch results: files in ``--out`` (Prefect artifacts: :mod:`batch_artifacts`).

Files are written atomically (a temp file, then ``os.replace``): a reader, or a crash,
never sees half a ``results.csv``. Rows are spooled to disk as documents finish, so the
tables are built from the spool (:mod:`results_table`), not from memory.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from eightflow_app.tasks.batch_api_progress import batch_api_report_lines
from eightflow_app.tasks.out_lock import OutDirLock
from eightflow_app.tasks.results_table import ResultsTable

from eightflow.batch.models import BatchSummary, DocumentOutcome
from eightflow.batch.on_budget import report_lines as budget_report_lines
from eightflow.observe.report import MarkdownCell, fmt_cost, markdown_table
from eightflow.runtime.failpoints import failpoint
from eightflow.safety.inert import md_cell
from eightflow.safety.path_roots import check_output_dir, open_new_file
from eightflow.safety.sanitize import sanitize_text
from eightflow.safety.sanitize_memo import SanitizeMemo
from eightflow.store.atomic_write import atomic_write

TRACE_FIELDS = [
    "step",
    "status",
    "attempts",
    "start",
    "duration_ms",
    "model",
    "prompt",
    "tokens_in",
    "tokens_out",
    "cost_usd",
    "error",
]


# A killed batch's spools and temp files, found among the results by the next writer.
_LEFTOVERS = (".rows.*.spool.jsonl", ".trace.*.spool.jsonl", ".*.tmp")

# One encoder for every row (json.dumps with options builds a new one per call).
_to_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


class ResultsWriter:
    """Spools outcomes, then writes results.csv/.parquet, trace.jsonl and report.md.

    It holds the folder's lock (:class:`OutDirLock`) from creation to :meth:`close`, so a
    second batch into the same folder waits, and its spools have names of their own.
    """

    def __init__(self, out_dir: Path, lock: OutDirLock | None = None) -> None:
        check_output_dir(out_dir)  # inside EIGHTFLOW_OUT_ROOT, never prompts/ or the home
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        check_output_dir(out_dir)  # again, now that it exists: a link is resolved
        self.lock = lock or OutDirLock(out_dir).acquire()
        self._dir_fd = self.lock.fd  # every file below is made beneath this checked folder
        # Holding the lock, any spool or temp file here is a killed batch's leftover.
        for name in os.listdir(self._dir_fd):
            if any(fnmatch.fnmatch(name, p) for p in _LEFTOVERS):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=self._dir_fd)
        tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._spool_name = f".rows.{tag}.spool.jsonl"
        self._trace_name = f".trace.{tag}.spool.jsonl"
        # Never through a link planted at these names.
        self._spool = open_new_file(self._spool_name, dir_fd=self._dir_fd, exclusive=True)
        self._trace = open_new_file(self._trace_name, dir_fd=self._dir_fd, exclusive=True)
        # Rows repeat step names, models, prompts and ids: each is sanitized once.
        self._sanitize = SanitizeMemo()
        self.rows: ResultsTable | None = None  # the table, once written by close()

    def release(self) -> None:
        """Give up the folder without writing results (the batch did not run)."""
        for handle in (self._spool, self._trace):
            handle.close()
        for name in (self._spool_name, self._trace_name):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=self._dir_fd)
        self.lock.release()

    def write(self, outcome: DocumentOutcome) -> None:
        self._sanitize.refresh()  # once per document: its rows share the sanitizer's state
        row = self._sanitize.walk(outcome.results_row(), limit=None)
        self._spool.write(_to_json(row) + "\n")
        for step in outcome.steps:
            fields = step.row()
            record = {"document": outcome.id, **{k: fields[k] for k in TRACE_FIELDS}}
            record["prompt_hash"] = step.prompt_hash
            record["cache_hit"] = outcome.cache_hit or (
                all(c.cache_hit for c in step.calls) and bool(step.calls)
            )
            record["task_run_id"] = step.task_run_id
            record["notes"] = step.notes
            record["final_pass"] = outcome.final_pass
            # Every attempt's calls, failed ones included: what happened, not only the end.
            record["calls"] = [
                {
                    "attempt": call.attempt,
                    "error_type": call.error_type,
                    "latency_ms": round(call.latency_ms, 1),
                    "cache_hit": call.cache_hit or outcome.cache_hit,
                }
                for call in step.calls
            ]
            self._trace.write(_to_json(self._sanitize.walk(record, 500)) + "\n")
        # Not flushed per document: only close() reads the spools, and a killed batch's
        # spools are deleted unread by the next writer (a flush each cost 2 system calls).

    def close(self, summary: BatchSummary) -> None:
        for change in summary.concurrency_changes:
            self._trace.write(json.dumps(change, default=str) + "\n")
        self._spool.close()
        self._trace.close()
        fd = self._dir_fd
        spool_fd = os.open(self._spool_name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        with open(spool_fd, encoding="utf-8") as spool:
            table = ResultsTable(json.loads(line) for line in spool)
        write_tables(table, self.out_dir, dir_fd=fd)
        os.replace(self._trace_name, "trace.jsonl", src_dir_fd=fd, dst_dir_fd=fd)
        os.unlink(self._spool_name, dir_fd=fd)
        with atomic_write(self.out_dir / "report.md", dir_fd=fd) as fh:
            fh.write(batch_report(summary))
        self.rows = table
        self.lock.release()


def write_tables(table: ResultsTable, out_dir: Path, dir_fd: int | None = None) -> None:
    """results.csv with formula-like cells escaped (OWASP); results.parquet raw."""
    with atomic_write(out_dir / "results.csv", newline="", dir_fd=dir_fd) as fh:
        table.write_csv(fh)
    with atomic_write(out_dir / "results.parquet", "wb", dir_fd=dir_fd) as fh:
        table.write_parquet(fh)


def batch_report(summary: BatchSummary) -> str:
    """Counts by status, cost by step and model, p50/p95 durations, top errors."""
    brief = summary.brief()
    waiting = len(summary.needs_review)
    lines = [
        f"# {summary.workflow} batch: {brief['headline']}",
        "",
        f"- documents: {summary.total} (completed {summary.completed}, "
        f"failed {summary.failed}, "
        + (f"{waiting} awaiting review, " if waiting else "")
        + f"unprocessed {len(summary.unprocessed)}; served from cache {summary.cache_hits})"
        + (
            f"; {len(summary.ungrounded)} ungrounded (answers not found in the document)"
            if summary.ungrounded
            else ""
        ),
        f"- model calls: {summary.model_calls}; "
        f"tokens {summary.tokens_in} in / {summary.tokens_out} out",
        f"- cost: {fmt_cost(brief['cost_usd'])}; wall time {summary.duration_s:.1f} s",
        f"- workflow version `{summary.version}`",
        f"- faults outlasted: {summary.faults_outlasted} failed attempts retried to success; "
        f"final pass: {summary.final_pass_documents} documents "
        f"({summary.final_pass_recovered} recovered); "
        f"concurrency changes: {len(summary.concurrency_changes)}",
    ]
    for reason in brief["reasons"]:
        lines.append(f"- **{reason}**")
    steps = [
        [
            step,
            stats["n"],
            _ms(stats["p50_ms"]),
            _ms(stats["p95_ms"]),
            fmt_cost(summary.cost_by_step.get(step, 0.0)),
        ]
        for step, stats in summary.step_stats().items()
    ]
    lines += ["", "## Steps", "", *markdown_table(["step", "n", "p50 ms", "p95 ms", "cost"], steps)]
    models = [[model, fmt_cost(cost)] for model, cost in sorted(summary.cost_by_model.items())]
    lines += ["", "## Cost by model", "", *markdown_table(["model", "cost"], models)]
    lines += batch_api_report_lines(summary)
    lines += budget_report_lines(summary)
    if summary.errors:
        errors = [
            [count, sanitize_text(error, limit=200)]
            for error, count in summary.errors.most_common(10)
        ]
        lines += ["", "## Top errors", "", *markdown_table(["count", "error"], errors)]
    if summary.needs_review:
        rows = []
        for doc in summary.needs_review[:500]:
            review_id, reason = summary.review_notes.get(doc, ("", ""))
            cell = sanitize_text(doc, limit=200)
            review = MarkdownCell(f"`{review_id}`")
            rows.append([cell, review, sanitize_text(reason, limit=200), "pending"])
        head = ["document", "review", "reason", "status"]
        lines += ["", "## Needs review", "", *markdown_table(head, rows)]
    if summary.unprocessed:
        lines += ["", "## Unprocessed", ""] + [
            f"- {md_cell(doc)}" for doc in summary.unprocessed[:200]
        ]
    return "\n".join(lines) + "\n"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def merge_shards(shard_dirs: list[Path], out: Path) -> dict[str, Any]:
    """One results table, trace and report out of the shards' folders."""
    # Parquet holds the raw values (results.csv is escaped for spreadsheets): read it when
    # a shard wrote one, else its CSV.
    rows: list[dict[str, Any]] = []
    for shard in shard_dirs:
        for name in ("results.parquet", "results.csv"):
            if (shard / name).exists():
                rows += ResultsTable.read(shard / name).rows
                break
    table = ResultsTable(rows)
    check_output_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    with OutDirLock(out) as lock:
        return _write_merged(table, shard_dirs, out, lock.fd)


def _write_merged(
    table: ResultsTable, shard_dirs: list[Path], out: Path, dir_fd: int
) -> dict[str, Any]:
    write_tables(table, out, dir_fd=dir_fd)
    traces = []
    failpoint("shard_merge")
    with atomic_write(out / "trace.jsonl", dir_fd=dir_fd) as fh:
        for shard in shard_dirs:
            path = shard / "trace.jsonl"
            if path.exists():
                for line in path.open(encoding="utf-8"):
                    fh.write(line)
                    traces.append(json.loads(line))
    statuses = dict(Counter(row["status"] for row in table.rows if row["status"] is not None))
    durations: dict[str, list[float]] = {}
    cost_by_step: dict[str, float] = {}
    for row in traces:
        if row.get("status") == "completed" and row.get("duration_ms") is not None:
            durations.setdefault(row["step"], []).append(float(row["duration_ms"]))
        if row.get("cost_usd") is not None and not row.get("cache_hit"):
            cost_by_step[row["step"]] = cost_by_step.get(row["step"], 0.0) + float(row["cost_usd"])
    from eightflow.observe.stats import percentile

    total_cost = sum(float(row["cost_usd"] or 0.0) for row in table.rows)
    lines = [
        f"# merged batch: {len(table)} documents from {len(shard_dirs)} shards",
        "",
        "- by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
        f"- cost: {fmt_cost(total_cost)}",
        "",
    ]
    steps = [
        [
            step,
            len(values),
            _ms(percentile(values, 50)),
            _ms(percentile(values, 95)),
            fmt_cost(cost_by_step.get(step, 0.0)),
        ]
        for step, values in durations.items()
    ]
    lines += markdown_table(["step", "n", "p50 ms", "p95 ms", "cost"], steps)
    errors = Counter(
        row["error"]
        for row in table.rows
        if row["status"] != "completed" and row["error"] is not None
    )
    if errors:
        top = [[n, sanitize_text(str(e), limit=200)] for e, n in errors.most_common(10)]
        lines += ["", "## Top errors", "", *markdown_table(["count", "error"], top)]
    with atomic_write(out / "report.md", dir_fd=dir_fd) as fh:
        fh.write("\n".join(lines) + "\n")
    return {"documents": len(table), "by_status": statuses, "out": str(out)}
