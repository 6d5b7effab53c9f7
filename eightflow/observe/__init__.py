"""Observation: the sanitizer, the tracer, metrics and the monitor."""
