"""Test and benchmark support shipped with eightflow.

The centrepiece is an OpenAI-compatible stub server (:class:`StubServer` in-process,
:func:`start_stub_process` as a child process) that litellm talks to over real HTTP, with
deterministic fault injection configured by :class:`StubConfig`.

Exports are resolved lazily: importing ``eightflow.testing`` costs nothing and never
imports litellm or prefect, and ``python -m eightflow.testing.stub_server`` does not find
its own module already imported by the package (which ``runpy`` warns about).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eightflow.testing.process import StubProcess, StubStartError, start_stub_process
    from eightflow.testing.stub_server import StubConfig, StubControlError, StubServer

__all__ = [
    "StubConfig",
    "StubControlError",
    "StubProcess",
    "StubServer",
    "StubStartError",
    "start_stub_process",
]

_LOCATIONS = {
    "StubConfig": "eightflow.testing.stub_server",
    "StubControlError": "eightflow.testing.stub_server",
    "StubServer": "eightflow.testing.stub_server",
    "StubProcess": "eightflow.testing.process",
    "StubStartError": "eightflow.testing.process",
    "start_stub_process": "eightflow.testing.process",
}


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
