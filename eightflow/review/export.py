"""People's decisions as a labelled evaluation set: ``eightflow review export``.

A batch's decided reviews become rows ``eightflow eval`` scores a prompt against
(:mod:`eightflow.evaluation.csv_kinds`):

- a sentiment review -> ``text,label``: the label a person approved or corrected;
- an entities review (an ungrounded answer) -> ``text,expected_entities``: the entities a
  person approved or corrected, as ``text|type`` pairs separated by ``;``, written by the
  codec ``eightflow eval`` reads them with (:mod:`eightflow.evaluation.entity_cell`).

Only what a person settled is a label: an approval or an edit made in the UI or the shell.
A rejection says the model was wrong but not what is right, and a timeout's default is no
one's judgement; both are skipped and counted. The text is the document itself, re-read
through the workflow's loader from the path the ledger recorded, and used only if its
sha256 still matches (as replay does); it is sanitized like every output.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eightflow.errors import WorkflowError
from eightflow.evaluation.entity_cell import encode_entity_pairs
from eightflow.review.store import decode_row
from eightflow.safety.sanitize import sanitize_text
from eightflow.settings import user_path
from eightflow.store.ledger import Ledger, default_ledger

#: The evaluation kind of each reviewed output: its CSV columns and the expected cell.
KIND_COLUMNS = {"sentiment": ("text", "label"), "entities": ("text", "expected_entities")}
#: Decisions that settle a label.
LABELLING = ("approve", "edit")


@dataclass
class ExportSummary:
    """What was written, and what was left out and why."""

    path: Path
    kind: str
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return f"{self.written} labelled {self.kind} rows in {self.path}" + (
            f" (left out: {why})" if why else ""
        )


def expected_cell(kind: str, final: Any) -> str | None:
    """The expected column of a decided output; None when it holds no usable label."""
    if not isinstance(final, dict):
        return None
    if kind == "sentiment":
        label = final.get("label")
        return str(label) if label else None
    found = final.get("entities")
    if not isinstance(found, list):
        return None
    return encode_entity_pairs(
        (str(e.get("text")), str(e.get("type"))) for e in found if isinstance(e, dict)
    )


def decided_reviews(results_dir: Path, kind: str, ledger: Ledger) -> list[dict[str, Any]]:
    """The latest review of each document of ``results_dir``'s batch for output ``kind``."""
    rows = ledger.query(
        "SELECT * FROM reviews WHERE out_dir = ? AND output = ? ORDER BY created",
        (str(results_dir), kind),
    )
    latest: dict[str, dict[str, Any]] = {}
    for row in map(decode_row, rows):
        latest[row.get("document_id") or row["run_id"]] = row
    return list(latest.values())


def export_labelled(
    results_dir: Path | str,
    out: Path | str,
    kind: str = "sentiment",
    ledger: Ledger | None = None,
    loader: Callable[[str], Any] | None = None,
    force: bool = False,
) -> ExportSummary:
    """Write ``results_dir``'s decided reviews of ``kind`` as a labelled CSV at ``out``.

    ``out`` is written whole or not at all; an existing ``out`` is refused (an error
    naming it) unless ``force``. ``loader`` gives a workflow class by name (the CLI passes
    the registry's: the review package does not import it)."""
    if loader is None:
        raise WorkflowError("export_labelled needs a workflow loader (eightflow.registry)")
    if kind not in KIND_COLUMNS:
        raise WorkflowError(f"unknown kind '{kind}'; one of: {', '.join(KIND_COLUMNS)}")
    target = _target(out)  # where the write goes, resolved once for the check and the write
    if not force and os.path.lexists(target):
        raise WorkflowError(_exists(out))  # said before any document is read
    folder = Path(os.path.realpath(user_path(results_dir)))
    if not (folder / "results.csv").is_file():
        raise WorkflowError(f"{results_dir}: no results.csv there (not a batch's results folder)")
    ledger = ledger or default_ledger()
    summary = ExportSummary(Path(out), kind)
    found: list[tuple[str, str]] = []
    for row in decided_reviews(folder, kind, ledger):
        if row.get("decision") not in LABELLING or row.get("decided_via") == "timeout":
            summary.skipped[_why_not(row)] += 1
            continue
        expected = expected_cell(kind, row.get("final"))
        text = _document_text(row, ledger, loader) if expected is not None else None
        if expected is None or text is None:
            summary.skipped["without a readable document or label"] += 1
            continue
        found.append((sanitize_text(text, limit=None), expected))
    if not found:
        raise WorkflowError(
            f"{results_dir}: no decided {kind} reviews to export"
            + (
                f" ({', '.join(f'{n} {r}' for r, n in summary.skipped.items())})"
                if summary.skipped
                else ""
            )
        )
    _write(target, KIND_COLUMNS[kind], found, force=force)
    summary.written = len(found)
    return summary


def _why_not(row: dict[str, Any]) -> str:
    if row.get("decided_via") == "timeout":
        return "decided by a timeout"
    return "rejected" if row.get("decision") == "reject" else "pending"


def _document_text(
    review: dict[str, Any], ledger: Ledger, loader: Callable[[str], Any]
) -> str | None:
    """The reviewed document's text, re-read as replay does (the sha256 must match)."""
    from eightflow.store.recorded_inputs import restore_inputs

    run = ledger.run(review["run_id"])
    if run is None or not run.get("inputs"):
        return None
    cls = loader(review["workflow"])

    def read_text(path: str) -> str:
        document = cls.inputs_from_path(path)["document"]
        return str(getattr(document, "text", document))

    try:
        values = restore_inputs(json.loads(run["inputs"]), run["run_id"], read_text)
    except (WorkflowError, ValueError):
        return None
    text = values.get("document")
    return str(getattr(text, "text", text)) if text else None


def _exists(out: Path | str) -> str:
    return f"{out}: already exists; pass --force to replace it"


def _target(out: str | Path) -> Path:
    """The export's file: its folder checked against the output root (and made) before
    anything is written, the same path for the exists-check and the write."""
    from eightflow.safety.path_roots import check_output_dir

    wanted = user_path(out)
    folder = check_output_dir(wanted.parent)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / wanted.name


def _write(
    path: Path, columns: tuple[str, str], rows: list[tuple[str, str]], force: bool = False
) -> None:
    """The CSV, written atomically (a file that appeared meanwhile is not replaced unless
    ``force``), every cell through ``csv_cell``: a document's text or a person's label
    that starts with ``=`` is a formula to a spreadsheet opening the file; ``eightflow
    eval`` reads the cells back with ``csv_value``."""
    from eightflow.safety.inert import csv_cell
    from eightflow.store.atomic_write import FileExistsRefused, atomic_write

    try:
        with atomic_write(path, newline="", replace=force) as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    except FileExistsRefused:
        raise WorkflowError(_exists(path)) from None
