"""What ``--mode batch-api`` shows: provider batches' progress and the cost comparison.

The progress artifact (key ``batch-api-progress``) is a markdown table with one row per
provider batch: wave, state (validating, in progress, finalizing, completed...) and its
request counts. It is written again whenever a batch's state or counts change, so the
run page in the Prefect UI follows the waves.
"""

from __future__ import annotations

from typing import Any

from eightflow.batch.models import BatchSummary
from eightflow.observe.report import MarkdownCell, fmt_cost, markdown_table

PROGRESS_KEY = "batch-api-progress"


def progress_markdown(batches: list[dict[str, Any]]) -> str:
    """One row per provider batch; a resumed batch links to the flow run that submitted it."""
    from eightflow.server.ui_links import flow_run_url

    head = ["wave", "batch", "model", "state", "completed", "failed", "total", "submitted by"]
    rows = []
    for row in sorted(batches, key=lambda r: (r["wave"], r["batch_id"])):
        origin = row.get("submitted_by")
        url = flow_run_url(origin) if origin else None
        by = (
            "this run"
            if not row["resumed"]
            else MarkdownCell(f"[earlier run]({url})")
            if url
            else "earlier run"
        )
        rows.append(
            [
                row["wave"],
                MarkdownCell(f"`{row['batch_id']}`"),
                row["model"],
                row["state"],
                row["completed"],
                row["failed"],
                row["total"],
                by,
            ]
        )
    return "\n".join(["# Provider batches", "", *markdown_table(head, rows)]) + "\n"


class BatchApiProgress:
    """The collector's progress hook: a markdown artifact per change, inside a flow run."""

    def __init__(self) -> None:
        self.updates = 0
        self.last: str | None = None

    async def __call__(self, batches: list[dict[str, Any]]) -> None:
        from prefect.artifacts import acreate_markdown_artifact
        from prefect.context import FlowRunContext

        self.last = progress_markdown(batches)
        self.updates += 1
        if FlowRunContext.get() is not None:
            await acreate_markdown_artifact(
                key=PROGRESS_KEY, markdown=self.last, description="provider batches, by wave"
            )


def batch_api_report_lines(summary: BatchSummary) -> list[str]:
    """report.md's "Batch API" section: waves, and this run's cost against online."""
    info = summary.batch_api
    if not info:
        return []
    lines = ["", "## Batch API", ""]
    for wave in info.get("waves", []):
        lines.append(
            f"- wave {wave['wave']}: {', '.join(wave['steps'])} "
            f"({len(wave['batches'])} provider batch(es))"
        )
    online, batch = info.get("online_cost_usd"), info.get("cost_usd")
    saved = (
        f" (saved {fmt_cost(online - batch)})" if online is not None and batch is not None else ""
    )
    lines.append(
        f"- cost at the batch rate: {fmt_cost(batch)}; the same calls online: "
        f"{fmt_cost(online)}{saved}"
    )
    if info.get("online_retries"):
        lines.append(f"- lines retried online after failing in a batch: {info['online_retries']}")
    return lines


async def reschedule_if_waiting(summary: BatchSummary, delay_s: float) -> str | None:
    """When provider batches are still open, schedule this deployment again, later.

    Waiting hours must not hold a worker: the flow run ends after ``batch_max_wait_s`` and
    a new run of the same deployment, with the same parameters, is scheduled ``delay_s``
    from now. It finds the open batches in the ledger and polls them; documents already
    done come from the cache. Outside a deployment (the CLI) nothing is scheduled: the
    next ``eightflow analyze`` resumes the same way. Returns the new flow run's id.
    """
    from datetime import UTC, datetime, timedelta

    from prefect.deployments.flow_runs import arun_deployment

    waiting = (summary.batch_api or {}).get("waiting_batches")
    deployment = _deployment_of_this_run()
    if not waiting or deployment is None:
        return None
    flow_run = await arun_deployment(
        name=deployment[0],
        parameters=deployment[1],
        scheduled_time=datetime.now(UTC) + timedelta(seconds=delay_s),
        timeout=0,
        as_subflow=False,
        tags=["batch-api-poll"],
    )
    return str(flow_run.id)


def _deployment_of_this_run() -> tuple[Any, dict[str, Any]] | None:
    """(deployment id, parameters) of the current flow run, if it came from a deployment."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None or ctx.flow_run.deployment_id is None:
        return None
    return ctx.flow_run.deployment_id, dict(ctx.flow_run.parameters)
