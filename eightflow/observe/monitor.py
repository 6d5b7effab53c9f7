"""``WorkflowMonitor``: runs a workflow under observation, as the seed shows."""

from __future__ import annotations

from typing import Any

from eightflow.errors import WorkflowError
from eightflow.observe.metrics import MetricsCollector
from eightflow.observe.tracer import WorkflowTracer
from eightflow.runtime.records import WorkflowResult


class WorkflowMonitor:
    def __init__(
        self, metrics: MetricsCollector | None = None, tracer: WorkflowTracer | None = None
    ) -> None:
        self.metrics = metrics or MetricsCollector()
        self.tracer = tracer or WorkflowTracer()

    async def observe_workflow(self, workflow: Any, **inputs: Any) -> WorkflowResult:
        trace = self.tracer.start_trace(workflow)
        try:
            result: WorkflowResult = await workflow.execute(**inputs)
        except WorkflowError as e:
            self.tracer.finish(trace, getattr(e, "result", None), e)
            self.metrics.record_failure(workflow, trace, e)
            raise
        self.tracer.finish(trace, result)
        self.metrics.record_success(workflow, trace, result)
        return result
