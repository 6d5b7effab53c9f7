"""The typed fields of deployment Run forms: what someone with the UI may choose.

A Run form is filled in by whoever can reach the Prefect UI, and the worker then acts with
its own keys and files. So the form offers choices, not free text where it matters:

- ``AllowedModel``: a model from the operator's list. ``EIGHTFLOW_ALLOWED_MODELS``
  (comma-separated; ``prefect.yaml`` passes it to workers); unset, it is
  ``EIGHTFLOW_MODEL``, ``EIGHTFLOW_FALLBACK_MODELS`` and the embedded model.
- ``ReadablePath``: a file or folder inside ``EIGHTFLOW_DATA_ROOTS`` (after links).
- ``OutputFolder``: a folder inside ``EIGHTFLOW_OUT_ROOT``, never in prompts/ or the home.

There is no base-URL field: where calls go is the operator's setting
(``EIGHTFLOW_API_BASE``), never a form's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from eightflow.allowed_models import allowed_models, check_allowed_model
from eightflow.path_roots import check_output_dir, check_readable


def _readable(path: str) -> str:
    check_readable(path)
    return path


def _output(path: str) -> str:
    check_output_dir(path)
    return path


AllowedModel = Annotated[str | None, AfterValidator(check_allowed_model)]
ReadablePath = Annotated[str, AfterValidator(_readable)]
OutputFolder = Annotated[str, AfterValidator(_output)]

__all__ = ["AllowedModel", "OutputFolder", "ReadablePath", "allowed_models", "check_allowed_model"]
