"""One run pipeline for every path: driver -> result -> review rules -> sinks.

- :mod:`eightflow.pipeline.driver`: the driver protocol, the static graph's driver, and
  how a driver's outcome becomes a ``WorkflowResult``;
- :mod:`eightflow.pipeline.run`: :class:`RunPipeline`, review rules and the sinks in order;
- :mod:`eightflow.pipeline.sinks`: the ledger, targets, artifacts and OpenTelemetry.

A planner's driver (dynamic workflows: rounds, re-plans, bounds) is another driver, kept
with the planner in :mod:`eightflow.planning.driver`; the pipeline never imports it.
"""

from eightflow.pipeline.driver import Driven, Driver, StaticDriver, build_result
from eightflow.pipeline.run import RunPipeline
from eightflow.pipeline.sinks import BatchScope, FinishedRun, Sink, SinkFailed, default_sinks

__all__ = [
    "BatchScope",
    "Driven",
    "Driver",
    "FinishedRun",
    "RunPipeline",
    "Sink",
    "SinkFailed",
    "StaticDriver",
    "build_result",
    "default_sinks",
]
