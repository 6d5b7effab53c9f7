"""Reusable Prefect tasks and step handlers: loading, chunking, analysis, publishing."""
