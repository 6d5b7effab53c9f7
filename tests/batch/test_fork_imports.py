"""Forking a batch's worker processes from a flow's process, which has other threads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest


def _module_that_waits(folder: Path) -> tuple[str, threading.Event, threading.Event]:
    """A module whose import stops half-way until ``gate`` is set (``started`` says it began)."""
    import builtins
    import uuid

    name = f"half_imported_{uuid.uuid4().hex[:8]}"
    started, gate = threading.Event(), threading.Event()
    setattr(builtins, f"_{name}", (started, gate))
    (folder / f"{name}.py").write_text(
        f"import builtins\nstarted, gate = builtins._{name}\nstarted.set()\ngate.wait(30)\n"
    )
    return name, started, gate


@pytest.mark.parametrize("finish_import", [True, False])
def test_a_fork_never_copies_an_import_another_thread_has_half_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, finish_import: bool
) -> None:
    """The shard hang of issue 23: a thread mid-import when the batch forked its worker."""
    import importlib
    import os

    from eightflow.batch.fork_imports import imports_in_flight, quiet_imports

    monkeypatch.syspath_prepend(str(tmp_path))
    name, started, gate = _module_that_waits(tmp_path)
    (tmp_path / f"{name}_later.py").write_text("VALUE = 1\n")
    importer = threading.Thread(target=importlib.import_module, args=(name,), daemon=True)
    importer.start()
    assert started.wait(10)
    assert name in imports_in_flight()
    if finish_import:
        threading.Timer(0.2, gate.set).start()
    with quiet_imports(timeout_s=10 if finish_import else 0.1) as busy:
        assert busy == ([] if finish_import else [name])
        pid = os.fork()
        if pid == 0:  # the child: another thread of it can still import (no lock kept)
            done: list[object] = []
            probe = threading.Thread(
                target=lambda: done.append(importlib.import_module(f"{name}_later"))
            )
            probe.start()
            probe.join(5)
            os._exit(0 if done else 1)
    gate.set()
    importer.join(10)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_fork_made_while_imports_are_still_in_flight_is_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from eightflow.batch.fork_imports import warn_busy_fork

    with caplog.at_level("WARNING", logger="eightflow.batch.fork_imports"):
        warn_busy_fork("eightflow-worker-1", ["croniter", "yaml"])
    assert "eightflow-worker-1" in caplog.text and "croniter, yaml" in caplog.text
