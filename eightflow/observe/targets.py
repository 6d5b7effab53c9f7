"""Checking performance targets after a run, and announcing breaches as Prefect events.

A breach becomes a Prefect event ``eightflow.target.breached`` (with the numbers in its
payload) so a Prefect automation can page someone or pause a deployment; it is also kept
in the ledger and shown in the run's report.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

from eightflow.definition.targets import PerformanceTargets
from eightflow.observe.stats import percentile
from eightflow.store.ledger import Ledger

log = logging.getLogger("eightflow.targets")
BREACH_EVENT = "eightflow.target.breached"


class TargetCheck(BaseModel):
    target: str
    limit: float
    observed: float | None
    breached: bool
    detail: str = ""
    runs: int = 0


def check_targets(ledger: Ledger, workflow: str, targets: PerformanceTargets) -> list[TargetCheck]:
    """Judge the last ``window`` runs of ``workflow`` against its targets."""
    runs = ledger.query(
        "SELECT run_id, status, cost_usd, document_id FROM runs WHERE workflow = ? "
        "ORDER BY started DESC LIMIT ?",
        (workflow, targets.window),
    )
    if not runs:
        return []
    checks: list[TargetCheck] = []
    if targets.success_rate is not None:
        rate = sum(r["status"] == "completed" for r in runs) / len(runs)
        checks.append(
            TargetCheck(
                target="success_rate",
                limit=targets.success_rate,
                observed=round(rate, 4),
                breached=rate < targets.success_rate,
                runs=len(runs),
                detail=f"{rate:.1%} of the last {len(runs)} runs succeeded",
            )
        )
    if targets.cost_per_document_usd is not None:
        costs = [r["cost_usd"] for r in runs if r["document_id"] is not None]
        priced = [c for c in costs if c is not None]
        observed = sum(priced) / len(priced) if priced else None
        checks.append(
            TargetCheck(
                target="cost_per_document_usd",
                limit=targets.cost_per_document_usd,
                observed=observed,
                runs=len(priced),
                breached=observed is not None and observed > targets.cost_per_document_usd,
                detail="mean cost per document" + ("" if priced else " (no priced documents)"),
            )
        )
    if targets.p95_step_latency_ms is not None:
        ids = [r["run_id"] for r in runs]
        marks = ",".join("?" * len(ids))
        rows = ledger.query(
            f"SELECT name, duration_ms FROM steps WHERE status = 'completed' "
            f"AND run_id IN ({marks})",
            tuple(ids),
        )
        by_step: dict[str, list[float]] = {}
        for row in rows:
            if row["duration_ms"] is not None:
                by_step.setdefault(row["name"], []).append(float(row["duration_ms"]))
        for step, values in sorted(by_step.items()):
            p95 = percentile(values, 95)
            checks.append(
                TargetCheck(
                    target=f"p95_step_latency_ms:{step}",
                    limit=targets.p95_step_latency_ms,
                    observed=round(p95, 1) if p95 is not None else None,
                    runs=len(values),
                    breached=p95 is not None and p95 > targets.p95_step_latency_ms,
                    detail=f"p95 latency of step '{step}'",
                )
            )
    return checks


def announce(workflow: str, run_id: str, checks: list[TargetCheck], ledger: Ledger) -> list[Any]:
    """Keep every check in the ledger; emit one Prefect event per breach."""
    events = []
    for check in checks:
        ledger.record_target_check(
            run_id, workflow, check.target, check.limit, check.observed, check.breached
        )
        if not check.breached:
            continue
        log.warning(
            "target breached: %s %s (observed %s, limit %s)",
            workflow,
            check.target,
            check.observed,
            check.limit,
        )
        try:
            from prefect.events import emit_event

            event = emit_event(
                event=BREACH_EVENT,
                resource={
                    "prefect.resource.id": f"eightflow.workflow.{workflow}",
                    "prefect.resource.name": workflow,
                },
                payload={"run_id": run_id, **check.model_dump()},
            )
            events.append(event)
        except Exception as exc:  # an unreachable API must not fail the run
            log.warning("could not emit %s: %s", BREACH_EVENT, exc)
    return events
