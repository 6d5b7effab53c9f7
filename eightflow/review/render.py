"""Markdown for reviewers: the form's description, the batch's review list, a decision."""

from __future__ import annotations

import json
from typing import Any

from eightflow.observe.sanitize import sanitize_text


def request_markdown(row: dict[str, Any]) -> str:
    """What the model produced and why a person is asked: the pause form's description."""
    proposed = json.dumps(row.get("proposed"), indent=2, ensure_ascii=False)
    lines = [
        f"## Review `{row['review_id']}`: {row['step']} of {row.get('document_id') or 'this run'}",
        "",
        f"**Why:** {sanitize_text('; '.join(row.get('reasons') or []), limit=500)}",
        "",
        f"The model ({row.get('model') or '?'}, prompt {row.get('prompt') or '?'}) produced "
        f"`{row['output']}`:",
        "",
        "```json",
        sanitize_text(proposed, limit=3000).replace("```", "'''"),  # no way out of the fence
        "```",
        "",
        f"Choose a decision ({', '.join(row.get('actions') or [])}). "
        + (
            f"Editable fields: {', '.join(row['editable'])}; change them to correct the output."
            if row.get("editable")
            else "No field may be edited."
        ),
        f"If nobody answers within {row.get('timeout_seconds')} s: {row.get('on_timeout')}.",
    ]
    return "\n".join(lines)


def pending_table(rows: list[dict[str, Any]]) -> str:
    """The batch's list of documents waiting for review, with links and commands."""
    lines = [
        "| review | document | step | reason | link | decide |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        link = f"[run]({row['link']})" if row.get("link") else ""
        reason = sanitize_text("; ".join(row.get("reasons") or []), limit=200).replace("|", "/")
        document = _cell(row.get("document_id") or "")
        lines.append(
            f"| `{row['review_id']}` | {document} | {row['step']} | "
            f"{reason} | {link} | `eightflow review decide {row['review_id']} --approve` |"
        )
    return "\n".join(lines)


def _cell(text: str) -> str:
    """A table cell that cannot end the cell or the row (file names are hostile input)."""
    return sanitize_text(text, limit=200).replace("|", "/").replace("\n", " ").replace("`", "'")


def decision_markdown(row: dict[str, Any]) -> str:
    edits = row.get("edits") or {}
    return "\n".join(
        [
            f"## Review `{row['review_id']}`: {row['status']}",
            "",
            f"- document: {row.get('document_id') or row['run_id']}",
            f"- step: {row['step']} (prompt {row.get('prompt') or '?'})",
            f"- reason asked: {sanitize_text('; '.join(row.get('reasons') or []), limit=300)}",
            f"- reviewer: {row.get('reviewer')}, via {row.get('decided_via')}, "
            f"after {row.get('seconds_to_decide') or 0:.0f} s",
            f"- edits: {json.dumps(edits, ensure_ascii=False) if edits else 'none'}",
            f"- note: {sanitize_text(row.get('note') or '', limit=500) or 'none'}",
        ]
    )
