"""Which outputs of a finished run need a person, and the pending review rows for them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from eightflow.definition import WorkflowDefinition
from eightflow.definition.review import ReviewRule
from eightflow.runtime.records import WorkflowResult
from eightflow.safety.sanitize import sanitize


class ReviewRequest(BaseModel):
    """One output of one run waiting for (or given) a person's decision."""

    review_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    run_id: str
    workflow: str
    version: str | None = None
    document_id: str | None = None
    step: str
    rule: str
    output: str
    prompt: str | None = None
    model: str | None = None
    proposed: Any = None  # the model's output, JSON-ready
    reasons: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    editable: list[str] = Field(default_factory=list)
    on_timeout: str = "reject"
    timeout_seconds: int = 3600
    batch_id: str | None = None
    flow_run_id: str | None = None
    task_run_id: str | None = None
    out_dir: str | None = None
    link: str | None = None
    status: str = "pending"
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def review_requests(definition: WorkflowDefinition, result: WorkflowResult) -> list[ReviewRequest]:
    """A request per enabled rule whose trigger fires on this run's outputs.

    Only completed runs are reviewed: a failed run has nothing trustworthy to approve.
    """
    if not result.ok or not definition.review:
        return []
    requests = []
    for rule in definition.review:
        reasons = rule.reasons(result.outputs)
        if reasons:
            requests.append(request_for(rule, result, reasons))
    return requests


def request_for(rule: ReviewRule, result: WorkflowResult, reasons: list[str]) -> ReviewRequest:
    record = next((s for s in result.steps if s.name == rule.step), None)
    return ReviewRequest(
        run_id=result.run_id,
        workflow=result.workflow,
        version=result.version,
        step=rule.step,
        rule=rule.name,
        output=rule.output,
        prompt=record.prompt if record else None,
        model=record.model if record else None,
        proposed=jsonable(result.outputs.get(rule.output)),
        reasons=reasons,
        actions=list(rule.actions),
        editable=list(rule.editable),
        on_timeout=rule.on_timeout,
        timeout_seconds=rule.timeout_seconds,
        flow_run_id=result.flow_run_id,
        task_run_id=record.task_run_id if record else None,
        link=run_page(result.flow_run_id) or result.ui_url,
    )


def run_page(flow_run_id: str | None) -> str | None:
    """The flow run's page in the UI, whose *Resume* (in the page's menu) opens the
    review form (see :mod:`eightflow.server.ui_links` for the UI version)."""
    from eightflow.server.ui_links import flow_run_url

    return flow_run_url(flow_run_id)


def jsonable(value: Any) -> Any:
    """An output as sanitized JSON data (pydantic objects dumped)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return sanitize(json.loads(json.dumps(value, default=str)), limit=None)
