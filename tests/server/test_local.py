"""The local Prefect server: auto-started by the Python API from a plain script, then stopped.

A script that only uses ``Workflow.execute()`` runs with no ``PREFECT_API_URL``, a fresh
``EIGHTFLOW_HOME`` and a free port: eightflow must start its persistent server there (by
Prefect's ``prefect server start``), run on it, keep stderr free of
tracebacks (no telemetry heartbeat fighting over SQLite), and ``stop()`` must leave no port
open.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eightflow.server.auth import auth_headers
from eightflow.server.local import LocalServer
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio, json
    from eightflow import Context, Step, StepResult, Workflow, WorkflowDefinition

    class Shout(Workflow):
        def define(self) -> WorkflowDefinition:
            steps = [Step(name="shout", handler=self.shout)]
            return WorkflowDefinition(name="script_shout", steps=steps)

        async def shout(self, context: Context) -> StepResult:
            return StepResult(loud=context.document.upper())

    result = asyncio.run(Shout(document="hello").execute())
    print(json.dumps({"status": result.status, "flow_run_id": result.flow_run_id,
                      "ui_url": result.ui_url, "loud": result.outputs["loud"]}))
    """
)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    local = LocalServer(home=tmp_path / "home", port=free_port())
    try:
        yield local
    finally:
        local.stop()


def test_a_plain_script_auto_starts_the_local_server_and_stop_closes_it(
    server: LocalServer, tmp_path: Path
) -> None:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "EIGHTFLOW_"))}
    env.update(
        {
            "EIGHTFLOW_HOME": str(server.home),
            "EIGHTFLOW_SERVER_PORT": str(server.port),
            # Prefect's profiles of its own: the machine's ~/.prefect is not the test's
            "PREFECT_HOME": str(tmp_path / "prefect"),
            "PYTHONPATH": str(REPO),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_OFFLINE_MODE": "true",
        }
    )
    done = run(script, env)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "completed" and result["loud"] == "HELLO"
    assert f"Started a local Prefect server at {server.url}" in done.stderr
    for alarming in ("Traceback", "database is locked", "WARNING", "ERROR"):
        assert alarming not in done.stderr, done.stderr[-3000:]

    # The server outlives the script, and keeps the run for the UI and `eightflow report`.
    assert server.is_healthy()
    assert result["ui_url"].startswith(f"{server.url}/v2/runs/flow-run/")
    auth = auth_headers(server.home)  # the server asks who you are
    assert auth, "no auth string was generated"
    url = f"{server.api_url}/flow_runs/{result['flow_run_id']}"
    assert httpx.get(url, timeout=10).status_code == 401
    flow_run = httpx.get(url, timeout=10, headers=auth).json()
    assert flow_run["state_type"] == "COMPLETED"
    ui = httpx.get(f"{server.api_url}/../ui-settings", timeout=10).json()
    assert ui["api_url"] == server.api_url  # the UI calls this port, not 4200
    # Prefect's own background server, in its own session (a Ctrl-C elsewhere spares it).
    pid = server.recorded_pid()
    assert pid is not None and (server.prefect_home / "server.pid").exists()
    assert os.getsid(pid) != os.getsid(0)
    assert server.status()["running"] is True

    # A second script that imports Prefect before eightflow finds the running server.
    second = tmp_path / "second.py"
    second.write_text("import prefect\n" + SCRIPT)
    again = json.loads(run(second, env).stdout.strip().splitlines()[-1])
    assert again["ui_url"].startswith(f"{server.url}/v2/runs/flow-run/")
    assert httpx.get(
        f"{server.api_url}/flow_runs/{again['flow_run_id']}", timeout=10, headers=auth
    ).is_success

    assert server.stop() is True
    assert not port_open(server.port)
    assert server.recorded_pid() is None and not (server.prefect_home / "server.pid").exists()
    assert server.stop() is False

    # After a reboot the profile `server start` wrote still points at the stopped server: a
    # script importing Prefect first starts it again rather than failing on a closed port.
    profile = (
        "from eightflow.server.auth import configure_profile; "
        f"configure_profile({server.api_url!r})"
    )
    configured = subprocess.run(
        [sys.executable, "-c", profile], env={**env, "EIGHTFLOW_CONFIGURE_PROFILE": "1"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert configured.returncode == 0, configured.stderr
    assert server.api_url in (tmp_path / "prefect" / "profiles.toml").read_text()
    rebooted = run(second, env)
    assert json.loads(rebooted.stdout.strip().splitlines()[-1])["status"] == "completed"
    assert f"Started a local Prefect server at {server.url}" in rebooted.stderr
    assert server.stop() is True
