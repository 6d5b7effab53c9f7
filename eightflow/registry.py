"""Where the CLI finds workflows: the ``eightflow.workflows`` entry-point group.

The engine never imports ``flows/`` or ``tasks/`` itself; packages (this one included)
declare their workflows in ``pyproject.toml`` and ``EIGHTFLOW_WORKFLOWS`` can add more as
``name=module:Class`` pairs separated by commas.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points
from typing import Any

from eightflow.errors import WorkflowError
from eightflow.runtime.gc_pause import quiet_gc
from eightflow.settings import get_settings
from eightflow.workflow import Workflow

GROUP = "eightflow.workflows"


def _targets() -> dict[str, str]:
    found = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    found.update(get_settings().workflows)
    return found


def workflow_names() -> list[str]:
    return sorted(_targets())


def load_workflow(name: str) -> type[Workflow]:
    targets = _targets()
    target = targets.get(name) or targets.get(name.replace("-", "_"))
    if target is None:
        known = ", ".join(sorted(targets)) or "none registered"
        raise WorkflowError(f"unknown workflow '{name}' (known: {known})")
    cls = getattr(_import(target), target.partition(":")[2])
    if not (isinstance(cls, type) and issubclass(cls, Workflow)):
        raise WorkflowError(f"'{target}' registered as '{name}' is not a Workflow subclass")
    return cls


def load_flow(name: str) -> Any:
    """A deployable flow by entry-point name (group ``eightflow.flows``)."""
    targets = {ep.name: ep.value for ep in entry_points(group="eightflow.flows")}
    target = targets.get(name)
    if target is None:
        raise WorkflowError(
            f"unknown flow '{name}' (known: {', '.join(sorted(targets)) or 'none'})"
        )
    return getattr(_import(target), target.partition(":")[2])


def _import(target: str) -> Any:
    """The module of ``module:attr``. A workflow's first import pulls in Prefect and the
    app's tasks, hundreds of thousands of objects: see :mod:`eightflow.runtime.gc_pause`. Later
    calls find it in ``sys.modules`` and freeze nothing (a freeze per call would keep the
    garbage of a long-lived process's earlier runs)."""
    name = target.partition(":")[0]
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    with quiet_gc():
        return importlib.import_module(name)
