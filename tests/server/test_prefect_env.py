"""Choosing the Prefect API: the CLI's rules, applied once per process for the Python API."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from eightflow.server import prefect_env
from eightflow.server.local import LocalServer


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No API configured in the environment, no server on the port, no choice made yet."""
    for name in (
        "PREFECT_API_URL",
        "PREFECT_SERVER_ANALYTICS_ENABLED",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
    ):
        monkeypatch.setenv(name, "")  # so that whatever connect() sets is undone after
        monkeypatch.delenv(name)
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")  # nothing listens there
    monkeypatch.setattr(prefect_env, "_connection", None)


def test_without_a_server_or_auto_start_it_falls_back_to_ephemeral_without_telemetry(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
    connection = prefect_env.connect()
    assert connection.mode == "ephemeral" and connection.api_url is None
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "120"
    assert "PREFECT_API_URL" not in os.environ


@pytest.mark.prefect
def test_an_api_in_prefects_settings_counts_as_configured(fresh: None) -> None:
    from prefect.settings import get_current_settings

    harness = get_current_settings().api.url  # the test session's server
    assert harness
    connection = prefect_env.ensure_connected()
    assert connection.mode == "configured" and connection.api_url == harness
    assert prefect_env.ensure_connected() is connection  # chosen once per process
    assert get_current_settings().api.url == harness


@pytest.mark.parametrize(
    ("name", "prefect_home"),
    [("server", "prefect/server"), ("stack-server", "prefect/stack-server")],
)
def test_servers_eightflow_starts_have_telemetry_off_and_their_own_prefect_home(
    tmp_path: Path, name: str, prefect_home: str
) -> None:
    server = LocalServer(home=tmp_path, port=4399, name=name)
    env = server.server_env()
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["PREFECT_HOME"] == str(tmp_path / prefect_home)
    assert env["PREFECT_UI_API_URL"] == "http://127.0.0.1:4399/api"
    assert env["PREFECT_API_DATABASE_CONNECTION_URL"].endswith(
        str(tmp_path / "prefect" / "prefect.db")
    )
    assert "PREFECT_API_URL" not in env


@pytest.mark.parametrize(
    ("service", "prefect_default", "flush_s"),
    [("TASK_RUN_RECORDER", 1, "1"), ("EVENT_PERSISTER", 20, "2")],
)
def test_servers_eightflow_starts_batch_their_writes_unless_the_operator_says(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    prefect_default: int,
    flush_s: str,
) -> None:
    name = f"PREFECT_SERVER_SERVICES_{service}_BATCH_SIZE"
    monkeypatch.delenv(name, raising=False)
    env = LocalServer(home=tmp_path, port=4399).server_env()
    assert int(env[name]) > prefect_default
    assert env[f"PREFECT_SERVER_SERVICES_{service}_FLUSH_INTERVAL"] == flush_s
    monkeypatch.setenv(name, "7")
    assert LocalServer(home=tmp_path, port=4399).server_env()[name] == "7"


@pytest.mark.parametrize(("nice", "prefix"), [("0", []), ("10", ["nice", "-n", "10"])])
def test_the_server_starts_at_the_operators_cpu_priority_with_its_output_in_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nice: str, prefix: list[str]
) -> None:
    """Never ``--background``: it leaves the server's output piped to a command that exits,
    and the server died at its first line of output (issue 23's hung two-shard batch)."""
    import subprocess

    import eightflow.server.local as local_server

    seen: list[tuple[list[str], dict[str, Any]]] = []

    class Exited:
        pid = 2**22 + 1  # above pid_max: no such process

        def __init__(self, cmd: list[str], **kwargs: Any) -> None:
            seen.append((cmd, kwargs))
            kwargs["stdout"].write(b"Port 4398 is already in use.\n")

        def poll(self) -> int:
            return 1

        def wait(self) -> int:
            return 1

    monkeypatch.setenv("EIGHTFLOW_SERVER_NICE", nice)
    monkeypatch.setattr(local_server.subprocess, "Popen", Exited)
    server = LocalServer(home=tmp_path, port=4398)
    monkeypatch.setattr(server, "is_healthy", lambda timeout=1.0: False)
    with pytest.raises(RuntimeError, match=r"prefect server start.*already in use"):
        server.start()
    cmd, kwargs = seen[0]
    assert cmd[: len(prefix)] == prefix
    assert cmd[len(prefix) :][-6:] == ["server", "start", "--host", "127.0.0.1", "--port", "4398"]
    assert "--background" not in cmd
    assert kwargs["stdout"].name == str(server.log_file)  # a file, never a pipe
    assert kwargs["stderr"] == subprocess.STDOUT and kwargs["start_new_session"] is True
    assert not (server.prefect_home / "server.pid").exists()  # no pid file left behind
