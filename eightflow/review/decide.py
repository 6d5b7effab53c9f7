"""Deciding a review: the same decision from the UI form, the shell or a timeout.

A decision is checked against the rule (the action must be allowed, edits must name
editable fields and validate against the output's schema), stored in the ledger with the
reviewer, the edits, the note and the time it took, then applied where the output shows:
the document's row in ``results.csv`` / ``results.parquet``, its line in ``report.md``,
and a ``review-decisions`` artifact. A review of a paused single run is decided by
resuming that run with the decision as its input, so the flow itself applies it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from eightflow.definition.review import ReviewEditError, ReviewRule
from eightflow.errors import WorkflowError
from eightflow.review.store import get_review, record_decision
from eightflow.safety.inert import csv_cell, csv_value, md_cell
from eightflow.safety.sanitize import sanitize_text
from eightflow.store.ledger import Ledger

DECIDED_STATUS = {
    "approve": "completed",
    "edit": "completed",
    "reject": "rejected",
    "fail": "failed",
}


def parse_edits(pairs: list[str]) -> dict[str, str]:
    """``FIELD=VALUE`` strings to a dict; the rule's schema types the values later."""
    edits = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise ReviewEditError(f"--edit takes FIELD=VALUE, got '{pair}'")
        edits[field.strip()] = value
    return edits


WorkflowLoader = Callable[[str], Any]


def _workflow_of(row: dict[str, Any], workflow: Any, loader: WorkflowLoader | None) -> Any:
    """The review's workflow instance: given, or loaded by name through ``loader``.

    The caller passes the loader (the CLI passes ``eightflow.registry.load_workflow``), so
    this package never imports the registry, which imports every workflow.
    """
    if workflow is not None or loader is None:
        return workflow
    try:
        return loader(row["workflow"])()
    except WorkflowError:
        return None


def rule_of(
    row: dict[str, Any], workflow: Any = None, loader: WorkflowLoader | None = None
) -> ReviewRule | None:
    """The rule a review was asked under, from the workflow's definition."""
    workflow = _workflow_of(row, workflow, loader)
    if workflow is None:
        return None
    return next((r for r in workflow.definition.review if r.name == row["rule"]), None)


def final_value(
    rule: ReviewRule | None, row: dict[str, Any], decision: str, edits: dict[str, Any]
) -> Any:
    """The output as it stands after the decision (JSON data)."""
    if decision not in row["actions"]:
        raise ReviewEditError(
            f"'{decision}' is not allowed here; allowed: {', '.join(row['actions'])}"
        )
    if decision != "edit":
        if edits:
            raise ReviewEditError("edits need the decision 'edit'")
        return row["proposed"]
    if not edits:
        raise ReviewEditError("an edit needs at least one FIELD=VALUE")
    if rule is None:
        raise ReviewEditError(f"the rule '{row['rule']}' is no longer defined: cannot edit")
    value = rule.apply_edits(row["proposed"], edits)
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def decide(
    review_id: str,
    decision: str,
    *,
    edits: dict[str, Any] | None = None,
    note: str = "",
    reviewer: str | None = None,
    via: str = "cli",
    workflow: Any = None,
    loader: WorkflowLoader | None = None,
    ledger: Ledger | None = None,
) -> dict[str, Any]:
    """Decide a pending review; returns the decided row (or ``{"resumed": id}``)."""
    edits = dict(edits or {})
    reviewer = reviewer or os.environ.get("USER") or "unknown"
    row = get_review(review_id, ledger)
    if row["status"] != "pending":
        raise WorkflowError(f"review {row['review_id']} is already {row['status']}")
    workflow = _workflow_of(row, workflow, loader)
    rule = rule_of(row, workflow)
    final = final_value(rule, row, decision, edits)
    check_results_row(row)
    if row["batch_id"] is None and row["flow_run_id"] and _paused(row["flow_run_id"]):
        from prefect.flow_runs import resume_flow_run

        typed = {k: final[k] for k in edits} if isinstance(final, dict) else {}
        run_input = {"decision": decision, "note": note, "reviewer": reviewer, **typed}
        resume_flow_run(UUID(row["flow_run_id"]), run_input=run_input)
        return {"resumed": row["flow_run_id"], "review_id": row["review_id"]}
    decided = record_decision(
        row["review_id"],
        decision=decision,
        reviewer=reviewer,
        edits=edits,
        note=note,
        final=final,
        via=via,
        ledger=ledger,
    )
    apply_to_results(decided, workflow)
    publish_decision(decided)
    return decided


def check_results_row(row: dict[str, Any]) -> None:
    """Before anything is recorded: each results table in the review's folder holds the
    document's row (ids compared decoded, :func:`csv_value`), else an error naming it, so
    the ledger, the tables and the artifact never disagree."""
    if not row.get("out_dir") or not row.get("document_id"):
        return
    out = Path(row["out_dir"])
    for path, ids in ((out / "results.csv", _csv_ids), (out / "results.parquet", _parquet_ids)):
        if path.is_file() and row["document_id"] not in ids(path):
            raise WorkflowError(_no_row(row, path))


def _no_row(row: dict[str, Any], path: Path) -> str:
    return (
        f"review {row['review_id']}: no row with id {row['document_id']!r} in {path}; "
        "nothing was recorded (was the results folder rewritten or moved?)"
    )


def _csv_ids(path: Path) -> set[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {csv_value(record.get("id")) for record in csv.DictReader(fh)}


def _parquet_ids(path: Path) -> set[str]:
    import pyarrow.parquet as pq

    return {str(v) for v in pq.ParquetFile(path).read(columns=["id"]).column("id").to_pylist()}


def apply_to_results(row: dict[str, Any], workflow: Any = None) -> list[Path]:
    """Rewrite the document's row in results.csv/.parquet and its line in report.md;
    a table without the row is an error naming the id."""
    if not row.get("out_dir") or not row.get("document_id"):
        return []
    out = Path(row["out_dir"])
    columns = _columns(row, workflow)
    status = DECIDED_STATUS[row["decision"]]
    updates = {**columns, "status": status, "review_status": row["status"]}
    written = []
    csv_path = out / "results.csv"
    parquet_path = out / "results.parquet"
    check_results_row(row)
    if csv_path.is_file():
        _update_csv(csv_path, row["document_id"], updates)
        written.append(csv_path)
    if parquet_path.is_file():
        _update_parquet(parquet_path, row["document_id"], updates)
        written.append(parquet_path)
    report = out / "report.md"
    if report.is_file():
        marker = f"`{row['review_id']}`"
        lines = report.read_text(encoding="utf-8").splitlines()
        decided = f"| {row['status']} by {_plain(row['reviewer'])} |"
        lines = [
            line.rsplit("| pending |", 1)[0] + decided
            if marker in line and line.endswith("| pending |")
            else line
            for line in lines
        ]
        _atomic_text(report, "\n".join(lines) + "\n")
        written.append(report)
    return written


def publish_decision(row: dict[str, Any]) -> None:
    """A ``review-decisions`` artifact per decision (its key keeps the history)."""
    from eightflow.review.render import decision_markdown

    try:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(
            key="review-decisions",
            markdown=decision_markdown(row),
            description=f"review {row['review_id']}: {row['status']}",
        )
    except Exception as exc:  # no Prefect API: the ledger and files still hold it
        row["artifact_error"] = sanitize_text(str(exc), limit=200)


async def apublish_decision(row: dict[str, Any]) -> None:
    """``publish_decision`` from inside a running flow (its event loop)."""
    from eightflow.review.render import decision_markdown

    try:
        from prefect.artifacts import acreate_markdown_artifact

        await acreate_markdown_artifact(
            key="review-decisions",
            markdown=decision_markdown(row),
            description=f"review {row['review_id']}: {row['status']}",
        )
    except Exception as exc:
        row["artifact_error"] = sanitize_text(str(exc), limit=200)


def _columns(row: dict[str, Any], workflow: Any) -> dict[str, Any]:
    if workflow is not None:
        return dict(workflow.review_columns(row["output"], row["final"]))
    value = row["final"]
    return {row["output"]: value if isinstance(value, str | int | float) else json.dumps(value)}


def _update_csv(path: Path, document_id: str, updates: dict[str, Any]) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    fields += [k for k in updates if k not in fields]
    for record in rows:
        if csv_value(record.get("id")) == document_id:
            # Escaped like every other cell of results.csv: a reviewer's text that starts
            # like a formula must not run in a spreadsheet.
            record.update({k: "" if v is None else csv_cell(v) for k, v in updates.items()})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    _atomic_text(path, buffer.getvalue())


def _update_parquet(path: Path, document_id: str, updates: dict[str, Any]) -> None:
    import pandas as pd

    frame = pd.read_parquet(path)
    mask = frame["id"] == document_id
    for key, value in updates.items():
        if key not in frame.columns:
            frame[key] = None
        if frame[key].dtype != object and not isinstance(value, int | float):
            frame[key] = frame[key].astype(object)
        frame.loc[mask, key] = value
    tmp = path.with_name(f".{path.name}.review.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _plain(text: str) -> str:
    """A reviewer's name in report.md's table: sanitized, inert, one cell."""
    return md_cell(sanitize_text(text, limit=100))


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.review.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _paused(flow_run_id: str) -> bool:
    """Whether the flow run is paused (waiting for this review); False without an API."""
    try:
        from uuid import UUID

        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            state = client.read_flow_run(UUID(flow_run_id)).state
        return bool(state and state.is_paused())
    except Exception:
        return False
