"""Document loaders: turn files of several formats into :class:`eightflow.documents.Document`.

Pure functions with no Prefect or model dependencies, so they can be tested alone and
wrapped in tasks elsewhere. ``iter_document_paths`` lists a folder's candidate files and
``load_document`` reads one of them or raises ``DocumentError`` with a short reason.

Every path that reads a document for a run (``eightflow run``, the adhoc deployments,
triage, batches, replay) goes through one door, ``sandbox.sandboxed_load_document``: it
parses PDF, DOCX, HTML and CSV in the sandbox's processes under its memory and time
limits. ``load_document`` is the parser those processes run (and what unit tests call).
"""

from __future__ import annotations

from eightflow_app.tasks.loading.limits import LoadLimits
from eightflow_app.tasks.loading.load import SUPPORTED_SUFFIXES, load_document
from eightflow_app.tasks.loading.paths import iter_document_paths

__all__ = ["SUPPORTED_SUFFIXES", "LoadLimits", "iter_document_paths", "load_document"]
