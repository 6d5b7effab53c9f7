"""Test and benchmark support shipped with eightflow.

The centrepiece is an OpenAI-compatible stub server (:class:`StubServer` in-process,
:func:`start_stub_process` as a child process) that litellm talks to over real HTTP, with
deterministic fault injection configured by :class:`StubConfig`.

Exports are resolved lazily: importing ``tests.support`` costs nothing and never
imports litellm or prefect, and ``python -m tests.support.stub_server`` does not find
its own module already imported by the package (which ``runpy`` warns about).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.process import StubProcess, StubStartError, start_stub_process
    from tests.support.stub_server import StubConfig, StubControlError, StubServer

__all__ = [
    "StubConfig",
    "StubControlError",
    "StubProcess",
    "StubServer",
    "StubStartError",
    "start_stub_process",
]

_LOCATIONS = {
    "StubConfig": "tests.support.stub_server",
    "StubControlError": "tests.support.stub_server",
    "StubServer": "tests.support.stub_server",
    "StubProcess": "tests.support.process",
    "StubStartError": "tests.support.process",
    "start_stub_process": "tests.support.process",
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
