"""The batch results artifact a person reads: a compact table that fits a 1,440 px screen.

It is a markdown artifact: measured in Chromium on Prefect's v2 UI at a 1,440 px window
(``tests/server/test_ui_links_e2e.py``), a *table* artifact's cells never wrap, so its
compact rows still ran 1,428 px wide in the 742 px artifact pane and scrolled 686 px
sideways; the same rows as a markdown table wrap inside the pane (690 px, no scrolling),
with id, confidence and cost side by side.

The full rows (every column, every token count) stay in ``results.parquet`` and in a second
(table) artifact the compact one links to. The compact table has, per document:

- ``id``, ``status``;
- the workflow's main outputs: its first :data:`MAIN_OUTPUTS` text columns (for document
  analysis: summary and topics), cut at a word boundary, never mid-word (summary 70
  characters, topics 40);
- ``confidence`` (the first column whose name holds "confidence"), two decimals;
- ``cost`` in dollars, in the summary's format (``$0.000123``);
- ``retries``: attempts beyond the first, over the document's steps (not summed attempts);
- ``error``, cut like the outputs.
"""

from __future__ import annotations

import json
from typing import Any

from eightflow.observe.report import fmt_cost

#: Characters of each main output (the first is the widest), and of the error: with the
#: other columns, about 220 characters, which a 1,440 px screen shows without scrolling.
OUTPUT_CHARS = (70, 40)
MAIN_OUTPUTS = len(OUTPUT_CHARS)
ERROR_CHARS = 50
#: Columns that are not a workflow's outputs: what every row has, and what review adds.
_NOT_OUTPUTS = {
    *("id", "status", "error", "grounded", "tokens_in", "tokens_out", "cost_usd"),
    *("duration_ms", "attempts", "retries", "cache_hit"),
    *("review_id", "review_status", "review_reason"),
}
_ELLIPSIS = "…"


def cut_at_word(text: str | None, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters, cut after a whole word."""
    if not text:
        return ""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    head = flat[: limit - len(_ELLIPSIS) + 1]
    # The last word that fits whole; one word longer than the cell is cut, and says so.
    head = head[: head.rindex(" ")] if " " in head else head[: limit - len(_ELLIPSIS)]
    return head.rstrip(" ,;:.-") + _ELLIPSIS


def main_outputs(columns: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """The workflow's first text columns (not scores, confidences or review fields)."""
    chosen = []
    for column in columns:
        if column in _NOT_OUTPUTS or "confidence" in column or column.endswith("_score"):
            continue
        if any(isinstance(row.get(column), str) and row[column] for row in rows):
            chosen.append(column)
        if len(chosen) == MAIN_OUTPUTS:
            break
    return chosen


def compact_rows(columns: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One short row per document for the results artifact."""
    outputs = main_outputs(columns, rows)
    confidence = next((c for c in columns if "confidence" in c), None)
    compact = []
    for row in rows:
        record: dict[str, Any] = {"id": row.get("id"), "status": row.get("status")}
        for column, limit in zip(outputs, OUTPUT_CHARS, strict=False):
            record[column] = cut_at_word(_text(row.get(column)), limit)
        if confidence is not None:
            value = row.get(confidence)
            record["confidence"] = f"{value:.2f}" if isinstance(value, int | float) else ""
        record["cost"] = fmt_cost(row.get("cost_usd")) if "cost_usd" in row else ""
        record["retries"] = row.get("retries") or 0
        record["error"] = cut_at_word(_text(row.get("error")), ERROR_CHARS)
        compact.append(record)
    return compact


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def json_parts(records: list[dict[str, Any]], max_bytes: int) -> list[list[dict[str, Any]]]:
    """Records in parts of at most ``max_bytes`` of JSON (Prefect Cloud caps a request)."""
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for record in records:
        encoded = len(json.dumps(record))
        if parts[-1] and size + encoded > max_bytes:
            parts.append([])
            size = 0
        parts[-1].append(record)
        size += encoded
    return parts


def compact_markdown(records: list[dict[str, Any]], what: str) -> str:
    """Compact rows as a markdown table (every cell escaped), under a one-line caption."""
    from eightflow.observe.report import markdown_table

    if not records:
        return f"{what}\n\nNo documents.\n"
    head = list(records[0])
    rows = [[record.get(column) for column in head] for record in records]
    return "\n".join([what, "", *markdown_table(head, rows), ""])


async def publish_compact(
    key: str, index: int, part: list[dict[str, Any]], what: str
) -> tuple[str, Any]:
    """The compact rows as a markdown artifact under ``key`` (``key-N`` for part N)."""
    from prefect.artifacts import acreate_markdown_artifact

    key = key if index == 1 else f"{key}-{index}"
    caption = f"Results, part {index}: {what}"
    artifact_id = await acreate_markdown_artifact(
        key=key, markdown=compact_markdown(part, caption), description=caption
    )
    return key, artifact_id


async def publish_table(
    key: str, index: int, part: list[dict[str, Any]], what: str
) -> tuple[str, Any]:
    """A table artifact under ``key`` (``key-N`` for part N): its key and its id."""
    from prefect.artifacts import acreate_table_artifact

    key = key if index == 1 else f"{key}-{index}"
    artifact_id = await acreate_table_artifact(
        key=key, table=part, description=f"results, part {index}: {what}"
    )
    return key, artifact_id


def artifact_link(artifact_id: Any) -> str | None:
    """The artifact's page in the UI (see :mod:`eightflow.server.ui_links`)."""
    from eightflow.server.ui_links import artifact_url

    return artifact_url(artifact_id)
