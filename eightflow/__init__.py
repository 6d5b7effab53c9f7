"""eightflow: declarative, observable LLM workflows compiled to Prefect 3 flows.

The public API is the vocabulary of *the seed*: the "Workflows" factor of the eight-factor
AI application, whose samples (``examples/seed_workflows.py``) run on eightflow as written.
Code comments that say "the seed's loop" or "the seed's sample" mean that text. Its names
are ``Workflow``, ``WorkflowDefinition``, ``Step``, ``ParallelStep``, ``RetryPolicy``,
``StepResult``, ``Context``, ``Recovery``, ``WorkflowMonitor``, ``MetricsCollector``,
``WorkflowTracer``, ``DynamicWorkflow`` and the names around them. Each is imported when
first used (:pep:`562`), so ``import eightflow`` costs nothing: a loader process that needs
only ``eightflow.documents`` does not import the engine, and listing workflows or reading a
definition never imports Prefect or litellm.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eightflow.definition import (
        Criterion,
        ParallelStep,
        PerformanceTargets,
        Recovery,
        RetryPolicy,
        ReviewRule,
        Step,
        WorkflowDefinition,
    )
    from eightflow.documents import Document
    from eightflow.errors import (
        BudgetExceeded,
        ModelError,
        ModelOutputError,
        ModelPermanentError,
        ModelTemporaryError,
        PromptError,
        StepFailed,
        WorkflowDefinitionError,
        WorkflowError,
        WorkflowFailed,
    )
    from eightflow.observe.metrics import MetricsCollector
    from eightflow.observe.monitor import WorkflowMonitor
    from eightflow.observe.tracer import WorkflowTracer
    from eightflow.planning.dynamic import (
        DynamicWorkflow,
        Plan,
        PlanError,
        PlannedStep,
        StepFactory,
        StepType,
    )
    from eightflow.prompts import Prompt, PromptRegistry
    from eightflow.runtime.context import Context, StepResult
    from eightflow.runtime.records import StepRecord, WorkflowResult
    from eightflow.workflow import Workflow

__version__ = "0.1.0"

#: Where each public name lives.
_PUBLIC: dict[str, str] = {
    "BudgetExceeded": "eightflow.errors",
    "Context": "eightflow.runtime.context",
    "Criterion": "eightflow.definition",
    "Document": "eightflow.documents",
    "DynamicWorkflow": "eightflow.planning.dynamic",
    "MetricsCollector": "eightflow.observe.metrics",
    "ModelError": "eightflow.errors",
    "ModelOutputError": "eightflow.errors",
    "ModelPermanentError": "eightflow.errors",
    "ModelTemporaryError": "eightflow.errors",
    "ParallelStep": "eightflow.definition",
    "PerformanceTargets": "eightflow.definition",
    "Plan": "eightflow.planning.dynamic",
    "PlanError": "eightflow.planning.dynamic",
    "PlannedStep": "eightflow.planning.dynamic",
    "Prompt": "eightflow.prompts",
    "PromptError": "eightflow.errors",
    "PromptRegistry": "eightflow.prompts",
    "Recovery": "eightflow.definition",
    "RetryPolicy": "eightflow.definition",
    "ReviewRule": "eightflow.definition",
    "Step": "eightflow.definition",
    "StepFactory": "eightflow.planning.dynamic",
    "StepFailed": "eightflow.errors",
    "StepRecord": "eightflow.runtime.records",
    "StepResult": "eightflow.runtime.context",
    "StepType": "eightflow.planning.dynamic",
    "Workflow": "eightflow.workflow",
    "WorkflowDefinition": "eightflow.definition",
    "WorkflowDefinitionError": "eightflow.errors",
    "WorkflowError": "eightflow.errors",
    "WorkflowFailed": "eightflow.errors",
    "WorkflowMonitor": "eightflow.observe.monitor",
    "WorkflowResult": "eightflow.runtime.records",
    "WorkflowTracer": "eightflow.observe.tracer",
}


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'eightflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


__all__ = [
    "BudgetExceeded",
    "Context",
    "Criterion",
    "Document",
    "DynamicWorkflow",
    "MetricsCollector",
    "ModelError",
    "ModelOutputError",
    "ModelPermanentError",
    "ModelTemporaryError",
    "ParallelStep",
    "PerformanceTargets",
    "Plan",
    "PlanError",
    "PlannedStep",
    "Prompt",
    "PromptError",
    "PromptRegistry",
    "Recovery",
    "RetryPolicy",
    "ReviewRule",
    "Step",
    "StepFactory",
    "StepFailed",
    "StepRecord",
    "StepResult",
    "StepType",
    "Workflow",
    "WorkflowDefinition",
    "WorkflowDefinitionError",
    "WorkflowError",
    "WorkflowFailed",
    "WorkflowMonitor",
    "WorkflowResult",
    "WorkflowTracer",
]
