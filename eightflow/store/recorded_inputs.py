"""What the ledger keeps of a run's inputs and model answers: an excerpt and a sha256.

By default every long text input is stored as a sanitized excerpt, its sha256 and length,
and (for a document) the path it was read from. ``replay`` re-reads the document from
that path and uses it only when its sha256 still matches; otherwise it says why it
cannot. Long model answers (which quote their documents) are kept the same way
(:func:`recorded_answer`); replay finds them whole in the response cache.
``EIGHTFLOW_LEDGER_FULL_INPUTS=1`` opts in to keeping whole (sanitized) inputs and answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from eightflow.errors import WorkflowError
from eightflow.safety.excerpts import excerpt
from eightflow.settings import get_settings

EXCERPT_CHARS = 500
_MARK = "__excerpt__"


def full_inputs_opted_in() -> bool:
    return get_settings().ledger_full_inputs


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _excerpt_record(value: str) -> dict[str, Any]:
    return {
        _MARK: excerpt(value, limit=EXCERPT_CHARS),
        "sha256": _digest(value),
        "chars": len(value),
    }


def recorded_answer(text: str) -> str:
    """A model's answer as the ledger stores it: whole when short or when full records are
    asked for (the caller sanitizes it), else the JSON of an excerpt record."""
    if full_inputs_opted_in() or len(text) <= EXCERPT_CHARS:
        return text
    return json.dumps(_excerpt_record(text), ensure_ascii=False)


def answer_excerpt(stored: str) -> dict[str, Any] | None:
    """The excerpt record of an answer stored by :func:`recorded_answer`; None: whole."""
    if not stored.startswith('{"' + _MARK):
        return None
    try:
        record = json.loads(stored)
    except ValueError:
        return None
    return (
        record if isinstance(record, dict) and set(record) == {_MARK, "sha256", "chars"} else None
    )


def recorded_inputs(inputs: dict[str, Any], document_info: dict[str, Any] | None) -> dict[str, Any]:
    """The inputs as the ledger stores them (the caller sanitizes what is returned)."""
    if full_inputs_opted_in():
        return dict(inputs)
    kept: dict[str, Any] = {}
    for name, value in inputs.items():
        if isinstance(value, str) and len(value) > EXCERPT_CHARS:
            record = _excerpt_record(value)
            if name == "document" and document_info and document_info.get("path"):
                record["path"] = str(document_info["path"])
            kept[name] = record
        else:
            kept[name] = value
    return kept


def restore_inputs(
    stored: dict[str, Any], run_id: str, read_text: Callable[[str], str]
) -> dict[str, Any]:
    """Inputs for replay: excerpts are replaced by the re-read document, if unchanged.

    ``read_text`` reads a document's text the way the workflow does (its loader).
    """
    values: dict[str, Any] = {}
    for name, value in stored.items():
        if isinstance(value, dict) and _MARK in value:
            values[name] = _reread(name, value, run_id, read_text)
        else:
            values[name] = value
    return values


def _reread(name: str, record: dict[str, Any], run_id: str, read_text: Callable[[str], str]) -> str:
    hint = "(set EIGHTFLOW_LEDGER_FULL_INPUTS=1 to keep whole inputs for replay)"
    path = record.get("path")
    if not path:
        raise WorkflowError(
            f"cannot replay run {run_id}: the ledger kept only an excerpt of input '{name}' "
            f"and no file to re-read it from {hint}"
        )
    try:
        text = read_text(str(path))
    except Exception as exc:
        raise WorkflowError(
            f"cannot replay run {run_id}: input '{name}' was {path}, which cannot be read "
            f"now ({exc}) {hint}"
        ) from None
    if _digest(text) != record.get("sha256"):
        raise WorkflowError(
            f"cannot replay run {run_id}: {path} has changed since the run (its sha256 no "
            f"longer matches the recorded one) {hint}"
        )
    return text
