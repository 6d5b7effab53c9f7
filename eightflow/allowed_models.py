"""The models the operator allows: what a Run form may choose, and a prompt file may name.

``EIGHTFLOW_ALLOWED_MODELS`` (comma-separated; ``prefect.yaml`` passes it to workers);
unset, it is ``EIGHTFLOW_MODEL``, ``EIGHTFLOW_FALLBACK_MODELS`` and the embedded model.
A leaf beside the settings, so that both :mod:`eightflow.run_form` and
:mod:`eightflow.prompts` can ask it.
"""

from __future__ import annotations

import os

from eightflow.settings import EMBEDDED_MODEL, get_settings


def _listed() -> list[str]:
    return [
        m.strip() for m in os.environ.get("EIGHTFLOW_ALLOWED_MODELS", "").split(",") if m.strip()
    ]


def operator_lists_models() -> bool:
    """Whether ``EIGHTFLOW_ALLOWED_MODELS`` names any model."""
    return bool(_listed())


def allowed_models() -> list[str]:
    """The models a deployment's Run form may choose from (operator's list)."""
    listed = _listed()
    if listed:
        return listed
    settings = get_settings()
    return list(dict.fromkeys([settings.model, *settings.fallback_models, EMBEDDED_MODEL]))


def check_allowed_model(model: str | None) -> str | None:
    """``model`` if the operator allows it (None or empty: the default); else an error."""
    if not model:
        return None
    allowed = allowed_models()
    if model not in allowed:
        raise ValueError(
            f"model '{model}' is not allowed; the operator allows: {', '.join(allowed)} "
            "(EIGHTFLOW_ALLOWED_MODELS)"
        )
    return model
