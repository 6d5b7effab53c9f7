"""Observation: tracer, metrics, monitor, reports, targets; the sanitizer is eightflow.sanitize."""
