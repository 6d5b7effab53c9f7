"""The e2e PostgreSQL helper stops the cluster only when it started it."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.support import postgres


@pytest.mark.parametrize(("running_before", "stopped"), [(True, False), (False, True)])
def test_the_cluster_is_stopped_only_if_it_was_down_before(
    monkeypatch: pytest.MonkeyPatch, running_before: bool, stopped: bool
) -> None:
    state = {"running": running_before}
    commands: list[list[str]] = []

    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        commands.append(command)
        action = command[-1]
        if action == "stop":
            state["running"] = False
        return subprocess.CompletedProcess(command, 0 if state["running"] else 3)

    monkeypatch.setattr(postgres.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(postgres.subprocess, "run", run)
    with postgres.postgres_for_test() as was_running:
        assert was_running is running_before
        state["running"] = True  # what ensure_postgres does
    assert state["running"] is not stopped
    assert (["pg_ctlcluster", "15", "main", "stop"] in commands) is stopped
