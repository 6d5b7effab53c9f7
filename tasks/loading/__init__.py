"""Document loaders: turn files of several formats into :class:`eightflow.documents.Document`.

Pure functions with no Prefect or model dependencies, so they can be tested alone and
wrapped in tasks elsewhere. ``iter_document_paths`` lists a folder's candidate files and
``load_document`` reads one of them or raises ``DocumentError`` with a short reason.
"""

from __future__ import annotations

from eightflow_app.tasks.loading.limits import LoadLimits
from eightflow_app.tasks.loading.load import SUPPORTED_SUFFIXES, load_document
from eightflow_app.tasks.loading.paths import iter_document_paths

__all__ = ["SUPPORTED_SUFFIXES", "LoadLimits", "iter_document_paths", "load_document"]
