"""One run pipeline for every path: driver -> result -> review rules -> sinks.

- :mod:`eightflow.pipeline.driver`: the driver protocol, the static graph's driver, and
  how a driver's outcome becomes a ``WorkflowResult``;
- :mod:`eightflow.pipeline.planner`: the planner protocol and its driver (dynamic
  workflows: rounds, re-plans, bounds);
- :mod:`eightflow.pipeline.run`: :class:`RunPipeline`, review rules and the sinks in order;
- :mod:`eightflow.pipeline.sinks`: the ledger, targets, artifacts and OpenTelemetry.
"""

from eightflow.pipeline.driver import Driven, Driver, StaticDriver, build_result
from eightflow.pipeline.planner import Planner, PlannerDriver
from eightflow.pipeline.run import RunPipeline
from eightflow.pipeline.sinks import BatchScope, FinishedRun, Sink, SinkFailed, default_sinks

__all__ = [
    "BatchScope",
    "Driven",
    "Driver",
    "FinishedRun",
    "Planner",
    "PlannerDriver",
    "RunPipeline",
    "Sink",
    "SinkFailed",
    "StaticDriver",
    "build_result",
    "default_sinks",
]
