"""The document profile the triage steps share with the embedded planner.

The code lives in :mod:`eightflow.embedded.profile`, because the engine may not import
``tasks/``; this module re-exports it for the workflow's side, so the ``flag_language``
and ``extract_tables`` steps report exactly what the planner saw.
"""

from __future__ import annotations

from eightflow.embedded.profile import (
    LANGUAGE_NAMES,
    LONG_DOCUMENT_WORDS,
    Profile,
    detect_language,
    find_tables,
    legal_scores,
    profile_document,
    question_lines,
)

__all__ = [
    "LANGUAGE_NAMES",
    "LONG_DOCUMENT_WORDS",
    "Profile",
    "detect_language",
    "find_tables",
    "legal_scores",
    "profile_document",
    "question_lines",
]
