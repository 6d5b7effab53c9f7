"""Markdown for reviewers: the form's description, the batch's review list, a decision.

Every string a document, a model or a reviewer supplied (document ids, reasons, names,
notes, edits) goes through :mod:`eightflow.safety.inert` where it lands, so none of it
can become a link, an image, HTML or a heading in the UI.
"""

from __future__ import annotations

import json
from typing import Any

from eightflow.observe.report import MarkdownCell, markdown_table
from eightflow.safety.inert import md_cell, md_code
from eightflow.safety.sanitize import sanitize_text


def _line(value: Any, limit: int = 200) -> str:
    """Untrusted text on one markdown line (a heading, a list item), sanitized."""
    return md_cell(sanitize_text("" if value is None else str(value), limit=limit))


def _list(values: Any) -> str:
    return ", ".join(_line(v, 80) for v in (values or []))


def request_markdown(row: dict[str, Any]) -> str:
    """What the model produced and why a person is asked: the pause form's description."""
    proposed = json.dumps(row.get("proposed"), indent=2, ensure_ascii=False)
    document = _line(row.get("document_id")) if row.get("document_id") else "this run"
    lines = [
        f"## Review {md_code(row['review_id'])}: {_line(row['step'])} of {document}",
        "",
        f"**Why:** {_line('; '.join(row.get('reasons') or []), limit=500)}",
        "",
        f"The model ({_line(row.get('model') or '?')}, prompt {_line(row.get('prompt') or '?')})"
        f" produced {md_code(row['output'])}:",
        "",
        "```json",
        sanitize_text(proposed, limit=3000).replace("```", "'''"),  # no way out of the fence
        "```",
        "",
        f"Choose a decision ({_list(row.get('actions'))}). "
        + (
            f"Editable fields: {_list(row['editable'])}; change them to correct the output."
            if row.get("editable")
            else "No field may be edited."
        ),
        f"If nobody answers within {_line(row.get('timeout_seconds'))} s: "
        f"{_line(row.get('on_timeout'))}.",
    ]
    return "\n".join(lines)


def pending_table(rows: list[dict[str, Any]]) -> str:
    """The batch's list of documents waiting for review, with links and commands."""
    head = ["review", "document", "step", "reason", "link", "decide"]
    cells = [
        [
            MarkdownCell(md_code(row["review_id"])),
            sanitize_text(row.get("document_id") or "", limit=200),
            row["step"],
            sanitize_text("; ".join(row.get("reasons") or []), limit=200),
            MarkdownCell(f"[run]({row['link']})") if row.get("link") else "",
            MarkdownCell(md_code(f"eightflow review decide {row['review_id']} --approve")),
        ]
        for row in rows
    ]
    return "\n".join(markdown_table(head, cells))


def queue_markdown(rows: list[dict[str, Any]]) -> str:
    """The review-queue form's description: the items at a glance, then what to do."""
    head = ["#", "document", "step", "reason"]
    cells = [
        [
            str(n),
            sanitize_text(row.get("document_id") or row["run_id"], limit=200),
            row["step"],
            sanitize_text("; ".join(row.get("reasons") or []), limit=300),
        ]
        for n, row in enumerate(rows, 1)
    ]
    waits = "output waits" if len(rows) == 1 else "outputs wait"
    return "\n".join(
        [
            f"## {len(rows)} {waits} for a person",
            "",
            *markdown_table(head, cells),
            "",
            "For each item choose approve, reject or edit (change its fields), or leave it on "
            "*later*. Submitting applies every decision as `eightflow review decide` does; "
            "items left for later wait in the next queue run.",
        ]
    )


def queue_item_markdown(row: dict[str, Any]) -> str:
    """One queue item's decision field: why it is asked, what the model proposed, its
    trace; every untrusted string inert."""
    proposed = sanitize_text(json.dumps(row.get("proposed"), ensure_ascii=False), limit=600)
    why = _line("; ".join(row.get("reasons") or []), limit=300)
    trace = f" [trace]({row['link']})" if row.get("link") else ""
    return f"**Why:** {why}. **Proposed:** {md_code(proposed)}.{trace}"


def decision_markdown(row: dict[str, Any]) -> str:
    """The ``review-decisions`` artifact of one decision."""
    edits = row.get("edits") or {}
    seconds = row.get("seconds_to_decide") or 0
    return "\n".join(
        [
            f"## Review {md_code(row['review_id'])}: {_line(row['status'])}",
            "",
            f"- document: {_line(row.get('document_id') or row['run_id'])}",
            f"- step: {_line(row['step'])} (prompt {_line(row.get('prompt') or '?')})",
            f"- reason asked: {_line('; '.join(row.get('reasons') or []), limit=300)}",
            f"- reviewer: {_line(row.get('reviewer'), 100)}, via {_line(row.get('decided_via'))}"
            f", after {seconds:.0f} s",
            "- edits: " + (_line(json.dumps(edits, ensure_ascii=False), 500) if edits else "none"),
            f"- note: {_line(row.get('note') or '', 500) or 'none'}",
        ]
    )
