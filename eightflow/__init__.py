"""eightflow: declarative, observable LLM workflows compiled to Prefect 3 flows.

The public API is the seed's vocabulary. Nothing here imports Prefect or litellm at import
time: both cost seconds, and listing workflows or reading a definition should not pay it.
"""

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
