"""The public API: every exported name resolves, and importing the package costs nothing."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import eightflow


@pytest.mark.parametrize("name", eightflow.__all__)
def test_every_exported_name_resolves_to_its_module(name: str) -> None:
    """``eightflow.X`` is the very object its module defines, cached after first use."""
    value = getattr(eightflow, name)
    assert value is getattr(importlib.import_module(eightflow._PUBLIC[name]), name)
    assert vars(eightflow)[name] is value


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        eightflow.Nope  # noqa: B018


def test_importing_a_leaf_module_imports_no_engine() -> None:
    """A loader process needs eightflow.documents: it must not pay for the engine."""
    prefixes = ("eightflow", "prefect", "litellm")
    code = (
        "import sys, eightflow.documents, eightflow.errors; "
        f"print(','.join(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = done.stdout.strip().split(",")
    assert loaded == ["eightflow", "eightflow.documents", "eightflow.errors"]
