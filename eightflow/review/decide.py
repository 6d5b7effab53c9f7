"""Deciding a review: the same decision from the UI form, the shell or a timeout.

A decision is checked against the rule (the action must be allowed, edits must name
editable fields and validate against the output's schema), stored in the ledger with the
reviewer, the edits, the note and the time it took, then applied where the output shows:
the document's row in ``results.csv`` / ``results.parquet``, its line in ``report.md``,
and a ``review-decisions`` artifact. A review of a paused single run is decided by
resuming that run with the decision as its input, so the flow itself applies it. A batch
review's decision then ends the batch's suspended queue runs it left with nothing to ask
(:mod:`eightflow.review.queue_runs`).
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
from eightflow.review.queue_runs import end_decided_queue_runs
from eightflow.review.store import get_review, record_decision
from eightflow.safety.inert import csv_cell, csv_value, md_cell
from eightflow.safety.sanitize import sanitize_text
from eightflow.store.ledger import Ledger

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

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
    settle_queue_runs(decided, ledger)
    return decided


def settle_queue_runs(row: dict[str, Any], ledger: Ledger | None = None) -> None:
    """After a batch review's decision: end the batch's suspended queue runs with nothing
    left to ask (:func:`end_decided_queue_runs`), noted in ``row["queue_runs"]``; an
    unreachable API must not undo a recorded decision (``row["queue_error"]``)."""
    try:
        found = end_decided_queue_runs(row.get("batch_id"), ledger)
    except Exception as exc:
        row["queue_error"] = sanitize_text(str(exc), limit=200)
        return
    if found["ended"] or found["started"]:
        row["queue_runs"] = found


def check_results_row(row: dict[str, Any]) -> None:
    """Before anything is recorded: each results table in the review's folder holds the
    document's row (ids compared decoded, :func:`csv_value`), else an error naming it, so
    the ledger, the tables and the artifact never disagree."""
    if not row.get("out_dir") or not row.get("document_id"):
        return
    with _ResultsFolder(row["out_dir"]) as folder:
        _check_rows(row, folder)


def _check_rows(row: dict[str, Any], folder: _ResultsFolder) -> None:
    for name, ids in (("results.csv", _csv_ids), ("results.parquet", _parquet_ids)):
        data = folder.read(name)
        if data is not None and row["document_id"] not in ids(data):
            raise WorkflowError(_no_row(row, folder.path / name))


def _no_row(row: dict[str, Any], path: Path) -> str:
    return (
        f"review {row['review_id']}: no row with id {row['document_id']!r} in {path}; "
        "nothing was recorded (was the results folder rewritten or moved?)"
    )


def _csv_ids(data: bytes) -> set[str]:
    text = io.StringIO(data.decode("utf-8"), newline="")
    return {csv_value(record.get("id")) for record in csv.DictReader(text)}


def _parquet_ids(data: bytes) -> set[str]:
    import pyarrow.parquet as pq

    table = pq.ParquetFile(io.BytesIO(data)).read(columns=["id"])
    return {str(v) for v in table.column("id").to_pylist()}


class _ResultsFolder:
    """The review's results folder, opened and checked once (``open_output_dir``): every
    read and rewrite below goes through its descriptor, never a link planted at a name."""

    def __init__(self, out_dir: str) -> None:
        self.path = Path(out_dir)
        self.fd = -1

    def __enter__(self) -> _ResultsFolder:
        from eightflow.safety.path_roots import open_output_dir

        self.fd = open_output_dir(self.path)
        return self

    def __exit__(self, *_: object) -> None:
        os.close(self.fd)

    def read(self, name: str) -> bytes | None:
        """The file's bytes, None if it is not there; a link at its name is refused."""
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WorkflowError(f"{self.path / name}: not a plain file ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as fh:
            return fh.read()

    def replace(self, name: str, data: bytes) -> None:
        """Write ``name`` whole or not at all, beneath the checked folder."""
        from eightflow.safety.path_roots import open_new_file

        tmp = f".{name}.review.tmp"
        with open_new_file(tmp, "wb", dir_fd=self.fd) as fh:
            fh.write(data)
        os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)


def apply_to_results(row: dict[str, Any], workflow: Any = None) -> list[Path]:
    """Rewrite the document's row in results.csv/.parquet and its line in report.md;
    a table without the row is an error naming the id."""
    if not row.get("out_dir") or not row.get("document_id"):
        return []
    columns = _columns(row, workflow)
    status = DECIDED_STATUS[row["decision"]]
    updates = {**columns, "status": status, "review_status": row["status"]}
    written = []
    with _ResultsFolder(row["out_dir"]) as folder:
        _check_rows(row, folder)
        csv_data = folder.read("results.csv")
        if csv_data is not None:
            folder.replace("results.csv", _update_csv(csv_data, row["document_id"], updates))
            written.append(folder.path / "results.csv")
        parquet = folder.read("results.parquet")
        if parquet is not None:
            folder.replace("results.parquet", _update_parquet(parquet, row["document_id"], updates))
            written.append(folder.path / "results.parquet")
        report = folder.read("report.md")
        if report is not None:
            marker = f"`{row['review_id']}`"
            decided = f"| {row['status']} by {_plain(row['reviewer'])} |"
            lines = [
                line.rsplit("| pending |", 1)[0] + decided
                if marker in line and line.endswith("| pending |")
                else line
                for line in report.decode("utf-8").splitlines()
            ]
            folder.replace("report.md", ("\n".join(lines) + "\n").encode("utf-8"))
            written.append(folder.path / "report.md")
    return written


DECIDED_EVENT = "eightflow.review.decided"
_EVENT_FIELDS: tuple[str, ...] = ("review_id", "status", "decision", "document_id", "step")
_EVENT_FIELDS += ("workflow", "decided_via", "reviewer")


def emit_decided(row: dict[str, Any]) -> Any:
    """A Prefect event per decision (``eightflow.review.decided``): automations and the UI's
    event feed see who decided what; None without an API."""
    try:
        from prefect.events import emit_event
        from prefect.settings import get_current_settings

        if not get_current_settings().api.url:  # no server to tell (and no error at exit)
            return None
        related = []
        for key, role in (("batch_id", "batch"), ("flow_run_id", "flow-run")):
            if row.get(key):
                related.append(
                    {"prefect.resource.id": f"prefect.flow-run.{row[key]}",
                     "prefect.resource.role": role}
                )  # fmt: skip
        return emit_event(
            event=DECIDED_EVENT,
            resource={
                "prefect.resource.id": f"eightflow.review.{row['review_id']}",
                "prefect.resource.name": f"review {row['review_id']}",
            },
            related=related,
            payload={key: row.get(key) for key in _EVENT_FIELDS},
        )
    except Exception as exc:  # an unreachable API must not undo a recorded decision
        row["event_error"] = sanitize_text(str(exc), limit=200)
        return None


def publish_decision(row: dict[str, Any]) -> None:
    """A ``review-decisions`` artifact per decision (its key keeps the history) and an
    ``eightflow.review.decided`` event."""
    from eightflow.review.render import decision_markdown

    emit_decided(row)
    try:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(  # type: ignore[call-arg]
            key="review-decisions",
            markdown=decision_markdown(row),
            description=f"review {row['review_id']}: {row['status']}",
            _sync=True,  # even when called from code with a running event loop
        )
    except Exception as exc:  # no Prefect API: the ledger and files still hold it
        row["artifact_error"] = sanitize_text(str(exc), limit=200)


async def apublish_decision(row: dict[str, Any]) -> None:
    """``publish_decision`` from inside a running flow (its event loop)."""
    from eightflow.review.render import decision_markdown

    emit_decided(row)
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


def _update_csv(data: bytes, document_id: str, updates: dict[str, Any]) -> bytes:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
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
    return buffer.getvalue().encode("utf-8")


def _update_parquet(data: bytes, document_id: str, updates: dict[str, Any]) -> bytes:
    import pandas as pd

    frame = pd.read_parquet(io.BytesIO(data))
    mask = frame["id"] == document_id
    for key, value in updates.items():
        if key not in frame.columns:
            frame[key] = None
        if frame[key].dtype != object and not isinstance(value, int | float):
            frame[key] = frame[key].astype(object)
        frame.loc[mask, key] = value
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


def _plain(text: str) -> str:
    """A reviewer's name in report.md's table: sanitized, inert, one cell."""
    return md_cell(sanitize_text(text, limit=100))


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
