"""Observation: tracer, metrics, monitor, reports and targets."""
