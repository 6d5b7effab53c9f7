"""Publishing a run to Prefect: a keyed markdown report and a keyed trace table.

Keys are stable per workflow (``<workflow>-report``, ``<workflow>-trace``) so the UI's
artifact page shows their history across runs; each version is also linked to its flow
run. Publishing never fails a run: a server hiccup is logged, not raised.
"""

from __future__ import annotations

import logging
import re

from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.context import FlowRunContext

from eightflow.definition import WorkflowDefinition
from eightflow.observe.report import run_report
from eightflow.observe.tracer import WorkflowTracer
from eightflow.runtime.records import WorkflowResult
from eightflow.safety.sanitize import sanitize_text

log = logging.getLogger("eightflow.artifacts")


def artifact_key(*parts: str) -> str:
    """Prefect keys allow lowercase letters, digits and dashes only."""
    key = "-".join(parts).lower()
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", key)).strip("-")[:200]


async def publish_run(
    definition: WorkflowDefinition,
    result: WorkflowResult,
    extra: dict[str, str] | None = None,
) -> None:
    """The report and trace artifacts; ``extra`` adds markdown artifacts by key suffix."""
    if FlowRunContext.get() is None:
        return
    name = definition.name
    try:
        for suffix, markdown in (extra or {}).items():
            await acreate_markdown_artifact(
                key=artifact_key(name, suffix),
                markdown=markdown,
                description=f"{name} run {result.run_id}: {suffix}",
            )
        await acreate_markdown_artifact(
            key=artifact_key(name, "report"),
            markdown=run_report(definition, result) + _people(result.run_id),
            description=f"{name} run {result.run_id}: {result.status}",
        )
        await acreate_table_artifact(
            key=artifact_key(name, "trace"),
            table=WorkflowTracer.rows(result),
            description=f"{name} run {result.run_id}: one row per step",
        )
    except Exception as exc:  # observation must not break the run it observes
        log.warning(
            "could not publish artifacts for run %s: %s",
            result.run_id,
            sanitize_text(str(exc), limit=300),
        )


def _people(run_id: str) -> str:
    """The report's "Decided by people" section (empty when nobody was asked)."""
    from eightflow.review.people import decisions_of_run, people_markdown

    try:
        return people_markdown(decisions_of_run(run_id))
    except Exception as exc:  # the ledger unreadable: the report goes out without it
        log.warning(
            "could not read the decisions of run %s: %s", run_id, sanitize_text(str(exc), limit=300)
        )
        return ""
