"""The local stack: a Prefect server, a process work pool, the deployments, N workers.

``eightflow stack up`` does, on 127.0.0.1 only:

1. starts a Prefect server (SQLite under EIGHTFLOW_HOME, or PostgreSQL with ``--postgres``);
2. creates the ``local`` process work pool and the Secret blocks workers read keys from;
3. deploys everything in ``prefect.yaml`` (``prefect --no-prompt deploy --all``);
4. starts N workers, each taking one flow run at a time,

and prints the UI URL. ``stack down`` stops what it started, by pid, workers first: a worker
was seen ignoring SIGTERM while the server went down. State lives in
``EIGHTFLOW_HOME/stack.json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from eightflow.local_server import LocalServer, _alive, prefect_executable
from eightflow.server_auth import (
    AUTH_FILE,
    configure_profile,
    unconfigure_profile,
    use_server,
)
from eightflow.settings import get_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
POOL = "local"
SECRET_BLOCKS = {"openai-api-key": "OPENAI_API_KEY", "anthropic-api-key": "ANTHROPIC_API_KEY"}


def _state_file() -> Path:
    return get_settings().state_dir / "stack.json"


def load_state() -> dict[str, Any]:
    try:
        return dict(json.loads(_state_file().read_text()))
    except (OSError, ValueError):
        return {}


def _save_state(state: dict[str, Any]) -> None:
    _state_file().write_text(json.dumps(state, indent=2))


def env_default(name: str, value: str) -> str:
    return os.environ.get(name) or value


def stack_env(api_url: str, started_in: Path | None = None) -> dict[str, str]:
    """Environment for deploy and workers: our API and its auth string, the project dir,
    offline litellm, and the operator's limits (roots default to where the stack started;
    models to the operator's list)."""
    from eightflow.run_form import allowed_models
    from eightflow.server_auth import client_env

    started_in = started_in or Path.cwd()
    env = dict(os.environ)
    env.update(client_env())
    env.update(
        {
            "EIGHTFLOW_DATA_ROOTS": env_default("EIGHTFLOW_DATA_ROOTS", str(started_in)),
            "EIGHTFLOW_OUT_ROOT": env_default("EIGHTFLOW_OUT_ROOT", str(started_in)),
            "EIGHTFLOW_ALLOWED_MODELS": ",".join(allowed_models()),
            "EIGHTFLOW_API_BASE": env_default("EIGHTFLOW_API_BASE", ""),
            "PREFECT_API_URL": api_url,
            "EIGHTFLOW_PROJECT_DIR": str(PROJECT_DIR),
            "EIGHTFLOW_HOME": str(get_settings().home),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "EIGHTFLOW_AUTO_SERVER": "0",
            # Workers poll every 10 s by default: runs waited ~7 s to be picked up here.
            "PREFECT_WORKER_QUERY_SECONDS": env_default("PREFECT_WORKER_QUERY_SECONDS", "2"),
        }
    )
    return env


async def _prepare_pool_and_secrets(api_url: str) -> None:
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.workers.process import ProcessWorker
    from pydantic import SecretStr

    async with get_client() as client:
        await client.create_work_pool(
            WorkPoolCreate(
                name=POOL,
                type="process",
                base_job_template=locked_job_template(
                    ProcessWorker.get_default_base_job_template()
                ),
                description="eightflow local process pool",
            ),
            overwrite=True,
        )
    for block, variable in SECRET_BLOCKS.items():
        # Workers get keys from Secret blocks; an empty one means "not configured".
        secret: Any = Secret(value=SecretStr(os.environ.get(variable, "")))
        await secret.save(block, overwrite=True)


def locked_job_template(template: dict[str, Any]) -> dict[str, Any]:
    """The process pool's template without what a run could abuse: a run may not set
    the command it runs, its environment (keys' destination, roots) or its directory.
    Workers run flows with their own environment, which the stack sets."""
    locked = json.loads(json.dumps(template))
    properties = locked["variables"]["properties"]
    for name in ("command", "env", "working_dir"):
        properties.pop(name, None)
        locked["job_configuration"].pop(name, None)
    locked["variables"]["required"] = [
        r for r in locked["variables"].get("required", []) if r in properties
    ]
    return locked


def up(
    port: int | None = None,
    workers: int = 1,
    postgres: str | None = None,
    deploy: bool = True,
    log: Any = print,
) -> dict[str, Any]:
    settings = get_settings()
    server = LocalServer(
        port=port or settings.server_port, database_url=postgres, name="stack-server"
    )
    log(
        f"starting the Prefect server on {server.url} "
        f"({'PostgreSQL' if postgres else 'SQLite under ' + str(server.data_dir)})"
    )
    server.start()
    env = stack_env(server.api_url)
    use_server(server.api_url, server.url)
    for name in ("EIGHTFLOW_DATA_ROOTS", "EIGHTFLOW_OUT_ROOT"):
        log(f"{name}={env[name]}")
    state: dict[str, Any] = {
        "server_pid": server.recorded_pid(),
        "port": server.port,
        "url": server.url,
        "api_url": server.api_url,
        "database": "postgres" if postgres else "sqlite",
        "workers": [],
    }
    _save_state(state)
    log(f"creating work pool '{POOL}' and Secret blocks")
    asyncio.run(_prepare_pool_and_secrets(server.api_url))
    if deploy:
        log("deploying prefect.yaml (prefect --no-prompt deploy --all)")
        done = subprocess.run(
            [*prefect_executable(), "--no-prompt", "deploy", "--all"],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"prefect deploy failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
    logs = settings.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for index in range(workers):
        name = f"eightflow-worker-{index + 1}"
        handle = (logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [
                *prefect_executable(),
                "worker",
                "start",
                "--pool",
                POOL,
                "--name",
                name,
                "--limit",
                "1",
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        state["workers"].append({"name": name, "pid": process.pid})
    _save_state(state)
    profile = configure_profile(server.api_url)
    log(
        f"started {workers} worker(s); UI: {server.url} (password: the auth string in "
        f"{server.home / AUTH_FILE})"
        + (f"; Prefect profile '{profile}' points at it" if profile else "")
    )
    return state


def _stop_pid(pid: int, first: int, timeout: float) -> None:
    for sig, wait in ((first, timeout), (signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        if not _alive(pid):
            return
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)


def down(log: Any = print) -> dict[str, Any]:
    """Workers first (SIGINT), then the server; returns what was stopped."""
    state = load_state()
    stopped: dict[str, Any] = {"workers": [], "server": False}
    for worker in state.get("workers", []):
        _stop_pid(int(worker["pid"]), signal.SIGINT, 15.0)
        stopped["workers"].append(worker["name"])
    if state.get("port"):
        stopped["server"] = LocalServer(port=int(state["port"]), name="stack-server").stop()
    if state.get("api_url"):
        unconfigure_profile(state["api_url"])
    port = state.get("port")
    if port and port_open(int(port)):
        raise RuntimeError(f"port {port} is still listening after stack down")
    _state_file().unlink(missing_ok=True)
    log(
        f"stopped {len(stopped['workers'])} worker(s) and "
        f"{'the server' if stopped['server'] else 'no server'}"
    )
    return stopped


def status() -> dict[str, Any]:
    state = load_state()
    if not state:
        return {"running": False}
    server = LocalServer(port=int(state["port"]), name="stack-server")
    return {
        "running": server.is_healthy(),
        "url": state["url"],
        "api_url": state["api_url"],
        "database": state.get("database"),
        "workers": [{**w, "alive": _alive(int(w["pid"]))} for w in state.get("workers", [])],
    }


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
