"""``RobustAnalysis``: the document-analysis workflow with generous, fast retries.

Not a test module (no ``test_`` prefix): the fault-injection test puts this folder on
``sys.path`` and registers the class through ``EIGHTFLOW_WORKFLOWS``, the way a user
registers their own workflow, so the batch flow finds it by name.
"""

from __future__ import annotations

from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow

from eightflow import RetryPolicy, Step, WorkflowDefinition
from eightflow.definition import ParallelStep

GENEROUS = RetryPolicy.exponential(max_attempts=10, initial_delay=0.05, max_delay=0.2, jitter=0.1)


def _with_policy(step: Step) -> Step:
    """The step (and its sub-steps) with the generous policy on every leaf."""
    if isinstance(step.handler, ParallelStep):
        subs = ParallelStep([_with_policy(sub) for sub in step.handler.steps])
        return step.model_copy(update={"handler": subs})
    return step.model_copy(update={"retry_policy": GENEROUS})


class RobustAnalysis(DocumentAnalysisWorkflow):
    """Summary, topics, sentiment and entities, retried up to 10 times per step."""

    name = "robust_analysis"

    def define(self) -> WorkflowDefinition:
        base = super().define()
        return WorkflowDefinition(
            name="robust_analysis",
            description=base.description,
            steps=[_with_policy(step) for step in base.steps],
            on_failure=base.on_failure,
            success_criteria=base.success_criteria,
        )
