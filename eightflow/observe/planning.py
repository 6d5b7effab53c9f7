"""Markdown for a dynamic run: the planning rounds as a timeline, and the graph executed."""

from __future__ import annotations

from typing import Any

from eightflow.runtime.records import WorkflowResult
from eightflow.safety.inert import md_cell, md_text
from eightflow.safety.sanitize import sanitize_text


def executed_mermaid(result: WorkflowResult, types: dict[str, Any] | None = None) -> str:
    """Planning rounds and the steps each accepted, with data edges between steps."""
    lines = ["flowchart TD"]
    status = {s.name: s.status for s in result.steps}
    rounds = result.planning or []
    for entry in rounds:
        n = entry["round"]
        label = "done" if entry.get("done") and not entry.get("accepted") else f"plan {n}"
        lines.append(f'  P{n}{{{{"{label}"}}}}')
        if n > 1:
            lines.append(f"  P{n - 1} -.-> P{n}")
        for step in entry.get("accepted", []):
            node = step.replace("-", "_")
            lines.append(f'  {node}["{step}"]')
            lines.append(f"  P{n} --> {node}")
            lines.append(f"  class {node} {status.get(step, 'not_run')}")
    for name, kind in (types or {}).items():
        for other, other_kind in (types or {}).items():
            shared = set(other_kind.outputs) & set(kind.inputs)
            if other != name and shared and name in status and other in status:
                lines.append(
                    f"  {other.replace('-', '_')} -->|{', '.join(sorted(shared))}| "
                    f"{name.replace('-', '_')}"
                )
    lines += [
        "  classDef completed fill:#d4f7dc,stroke:#1a7f37",
        "  classDef failed fill:#ffd7d5,stroke:#cf222e",
        "  classDef not_run fill:#ffffff,stroke:#8c959f,stroke-dasharray: 2 2",
    ]
    return "\n".join(lines)


def planning_report(workflow: Any, result: WorkflowResult) -> str:
    types = getattr(getattr(workflow, "step_factory", None), "types", None)
    lines = [f"# {result.workflow}: planning ({result.status})", ""]
    if result.error:
        lines += [f"**Ended:** {md_text(sanitize_text(result.error, limit=300))}", ""]
    lines += ["## Timeline", ""]
    for entry in result.planning or []:
        lines.append(
            f"### Round {entry['round']} ({entry.get('prompt')}, "
            f"{entry.get('duration_ms', 0):.0f} ms"
            f"{', ' + str(entry['replans']) + ' re-plans' if entry.get('replans') else ''})"
        )
        lines.append("")
        if entry.get("rationale"):
            lines.append(f"> {md_cell(sanitize_text(entry['rationale'], limit=500))}")
            lines.append("")
        for planned in entry.get("plan", []):
            mark = "accepted" if planned["type"] in entry.get("accepted", []) else "proposed"
            reason = md_cell(sanitize_text(planned.get("reason", ""), limit=200))
            lines.append(f"- {md_cell(planned['type'])} ({mark}): {reason}")
        for rejected in entry.get("rejected", []):
            lines.append(
                f"- rejected {md_cell(rejected['step'])}: "
                f"{md_cell(sanitize_text(rejected['problem']))}"
            )
        if entry.get("done"):
            lines.append("- planner: **done**")
        if entry.get("error"):
            lines.append(f"- error: {md_cell(sanitize_text(str(entry['error'])))}")
        lines.append("")
    lines += ["## Graph executed", "", "```mermaid", executed_mermaid(result, types), "```", ""]
    return "\n".join(lines)
