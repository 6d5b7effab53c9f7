"""Markdown for a run: the result, the DAG in Mermaid coloured by outcome, the step table.

Pure text, shared by the Prefect report artifact and the CLI, and sanitized here so no
caller can forget to.
"""

from __future__ import annotations

from typing import Any

from eightflow.definition import WorkflowDefinition
from eightflow.runtime.records import StepRecord, WorkflowResult
from eightflow.safety.inert import md_cell, md_text
from eightflow.safety.sanitize import sanitize, sanitize_text

_STATUS_STYLE = {
    "completed": "fill:#d4f7dc,stroke:#1a7f37",
    "cached": "fill:#dbeafe,stroke:#1d4ed8",
    "failed": "fill:#ffd7d5,stroke:#cf222e",
    "skipped": "fill:#eeeeee,stroke:#8c959f,stroke-dasharray: 4 2",
    "not_run": "fill:#ffffff,stroke:#8c959f,stroke-dasharray: 2 2",
}


class MarkdownCell(str):
    """A table cell that is markdown on purpose (a link, a code span): put in as it is.

    Everything else a table holds (names, model text, errors) is escaped, so only what
    eightflow itself writes can be active markdown.
    """


def markdown_table(head: list[str], rows: list[list[Any]]) -> list[str]:
    """The one markdown table renderer: a header, a separator, one line per row.

    Cells are ``str()``-ed and escaped with ``md_cell`` (pipes, backticks, links, HTML,
    newlines), so a cell's text (an error message, a file name, model output) can never
    break the table or act as markdown; a ``MarkdownCell`` is trusted. Returns lines, for
    callers that build a document line by line.
    """

    def cell(value: Any) -> str:
        if isinstance(value, MarkdownCell):
            return " ".join(str(value).splitlines())
        return md_cell("" if value is None else value)

    lines = ["| " + " | ".join(cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def fmt_cost(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:.6f}"


def mermaid_with_status(definition: WorkflowDefinition, steps: list[StepRecord]) -> str:
    lines = [definition.to_mermaid()]
    for status, style in _STATUS_STYLE.items():
        lines.append(f"  classDef {status} {style}")
    for record in steps:
        lines.append(f"  class {record.name.replace('-', '_')} {record.status}")
    return "\n".join(lines)


STEP_TABLE_HEAD = [
    "step",
    "status",
    "attempts",
    "duration ms",
    "model",
    "prompt",
    "tokens in/out",
    "cost",
    "error",
]


def step_table(steps: list[StepRecord]) -> str:
    rows = [
        [
            r.name,
            r.status,
            r.attempts,
            "" if r.duration_ms is None else f"{r.duration_ms:.0f}",
            r.model,
            r.prompt,
            f"{r.tokens_in}/{r.tokens_out}",
            fmt_cost(r.cost_usd),
            sanitize_text(r.error or "", limit=120),
        ]
        for r in steps
    ]
    return "\n".join(markdown_table(STEP_TABLE_HEAD, rows))


def compact(value: Any) -> str:
    """A value as a person reads it: lists joined, labels with scores, entities by type.

    Shared by the report artifact and the CLI so both show outputs the same way.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and {"text", "type"} <= set(v) for v in value):
            return _by_type(value)
        return ", ".join(compact(v) for v in value)
    if isinstance(value, dict):
        if {"label", "score"} <= set(value):
            return f"{value['label']} ({value['score']:+.2f})"
        if {"phrase", "score"} <= set(value):
            return f"{value['phrase']} ({value['score']:.2f})"
        if isinstance(value.get("entities"), list):
            return _by_type(value["entities"]) if value["entities"] else "none"
        if {"text", "type"} <= set(value):
            return f"{value['text']} ({value['type']})"
        return "; ".join(f"{k}: {compact(v)}" for k, v in value.items())
    return str(value)


def _by_type(items: list[dict[str, Any]]) -> str:
    by_type: dict[str, list[str]] = {}
    for item in items:
        by_type.setdefault(str(item["type"]), []).append(str(item["text"]))
    return "\n".join(f"{kind}: {', '.join(names)}" for kind, names in by_type.items())


_REPORT_SKIP = {"report"}  # the compilation step's record repeats the other outputs


def render_outputs(outputs: dict[str, Any]) -> str:
    parts = []
    for key, value in sanitize(outputs, limit=4000).items():
        if key in _REPORT_SKIP:
            continue
        sentences = isinstance(value, list) and any(
            isinstance(v, str) and len(v) > 60 for v in value
        )
        text = "\n".join(str(v) for v in value) if sentences else compact(value)
        text = md_text(text)  # model text: shown, never interpreted as markdown or HTML
        if "\n" in text and not isinstance(value, str):
            text = "\n".join(f"- {line}" for line in text.splitlines())
        parts.append(f"**{md_text(key)}**\n\n{text}\n")
    return "\n".join(parts) or "_no outputs_"


def run_report(definition: WorkflowDefinition, result: WorkflowResult) -> str:
    """The markdown report of one run."""
    lines = [
        f"# {md_cell(result.workflow)}: {md_cell(result.status)}",
        "",
        f"- run id: `{result.run_id}`, workflow version `{result.version}`",
        f"- duration: {result.duration_ms / 1000:.2f} s; model calls: {result.model_calls}"
        + (f" (+{result.cache_hits} answered from cache)" if result.cache_hits else ""),
        f"- tokens: {result.tokens.input} in / {result.tokens.output} out; "
        f"cost: {fmt_cost(result.cost_usd)}",
    ]
    if result.inputs:
        lines.append(
            "- inputs: "
            + ", ".join(
                f"{md_text(k)}={md_cell(sanitize_text(v, limit=80))}"
                for k, v in result.inputs.items()
            )
        )
    if result.error:
        error = md_text(sanitize_text(result.error, limit=600))
        lines += ["", f"**Error** ({result.error_type}): {error}"]
    if result.failed_criteria:
        lines += ["", "**Failed criteria:** " + ", ".join(map(md_cell, result.failed_criteria))]
    if result.grounded is False:
        why = [r for s in result.steps for r in (s.notes.get("grounding") or {}).get("reasons", [])]
        text = md_text(sanitize_text("; ".join(why), limit=600))
        lines += ["", f"**Ungrounded:** answers not found in the document: {text}"]
    if result.target_breaches:
        lines += ["", "**Performance targets breached** (event `eightflow.target.breached`):"]
        lines += [
            "- "
            + md_cell(
                f"{b['target']}: observed {b['observed']}, limit {b['limit']} ({b['detail']})"
            )
            for b in result.target_breaches
        ]
    lines += [
        "",
        "## Result",
        "",
        render_outputs(result.outputs),
        "## Graph",
        "",
        "```mermaid",
        mermaid_with_status(definition, result.steps),
        "```",
        "",
        "## Steps",
        "",
        step_table(result.steps),
        "",
    ]
    return "\n".join(lines)


def trace_rows(result: WorkflowResult) -> list[dict[str, Any]]:
    """One sanitized row per step (kept here for callers of the report module)."""
    from eightflow.observe.tracer import WorkflowTracer

    return WorkflowTracer.rows(result)
