"""Batch processing: a workflow over a folder of documents."""

from eightflow.batch.models import BatchOptions, BatchSummary, DocumentOutcome
from eightflow.batch.runner import BatchRunner, add_progress_listener, remove_progress_listener

__all__ = [
    "BatchOptions",
    "BatchRunner",
    "BatchSummary",
    "DocumentOutcome",
    "add_progress_listener",
    "remove_progress_listener",
]
