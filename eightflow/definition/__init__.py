"""The definition layer: workflows as frozen, validated data. No Prefect in here."""

from eightflow.definition.criteria import Criterion
from eightflow.definition.policy import Recovery, RetryPolicy
from eightflow.definition.review import ReviewRule
from eightflow.definition.step import ParallelStep, Step
from eightflow.definition.targets import PerformanceTargets
from eightflow.definition.workflow_definition import WorkflowDefinition

__all__ = [
    "Criterion",
    "ParallelStep",
    "PerformanceTargets",
    "Recovery",
    "RetryPolicy",
    "ReviewRule",
    "Step",
    "WorkflowDefinition",
]
