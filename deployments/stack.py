"""The local stack: a Prefect server behind the front door, a process work pool, the
deployments, N workers.

``eightflow stack up`` does, on 127.0.0.1 only:

1. starts a Prefect server on a private port (SQLite under EIGHTFLOW_HOME, or PostgreSQL with
   ``--postgres``); only the admin auth string opens it;
2. starts the front door (:mod:`eightflow.server.front_door`) on the printed port: the admin
   auth string passes through, the runner credential (``EIGHTFLOW_HOME/runner-auth``) gets
   the runner allow-list;
3. creates the ``local`` process work pool (no provider key goes into the server: workers
   read keys from their own environment or ``EIGHTFLOW_HOME/keys.env``);
4. deploys everything in ``prefect.yaml`` (``prefect --no-prompt deploy --all``);
5. starts N workers, each taking one flow run at a time, with an allow-listed environment,

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

from eightflow_app.deployments.worker_env import PROVIDER_VARIABLE, worker_environment

from eightflow.runtime.global_limits import PrefectLimits
from eightflow.runtime.model_limits import ensure_model_limits
from eightflow.server.auth import (
    AUTH_FILE,
    configure_profile,
    unconfigure_profile,
    use_server,
)
from eightflow.server.credentials import RUNNER_FILE, runner_auth
from eightflow.server.launcher import healthy, start_front_door, stop_front_door
from eightflow.server.local import LocalServer, _alive, prefect_executable
from eightflow.server.ui_links import ui_base_url
from eightflow.settings import get_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
POOL = "local"
# Older stacks kept provider keys in these Secret blocks; `stack up` deletes them.
LEGACY_SECRET_BLOCKS = ("openai-api-key", "anthropic-api-key")


def _state_file() -> Path:
    return get_settings().state_dir / "stack.json"


def load_state() -> dict[str, Any]:
    try:
        return dict(json.loads(_state_file().read_text()))
    except (OSError, ValueError):
        return {}


def _save_state(state: dict[str, Any]) -> None:
    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(state, indent=2))


def env_default(name: str, value: str) -> str:
    return os.environ.get(name) or value


def stack_env(
    api_url: str, started_in: Path | None = None, public_url: str | None = None
) -> dict[str, str]:
    """Environment for deploy and workers: our API and its auth string, the project dir,
    offline litellm, and the operator's limits (roots default to where the stack started;
    models to the operator's list). ``PREFECT_UI_URL`` is the UI people open (the front
    door's ``public_url``) on the version every eightflow link opens, so Prefect's own
    "View at" lines in the workers' runs point there too."""
    from eightflow.server.auth import client_env
    from eightflow.settings import allowed_models

    started_in = started_in or Path.cwd()
    env = worker_environment(os.environ)
    env.update(client_env())
    env.update(
        {
            "EIGHTFLOW_DATA_ROOTS": env_default("EIGHTFLOW_DATA_ROOTS", str(started_in)),
            "EIGHTFLOW_OUT_ROOT": env_default("EIGHTFLOW_OUT_ROOT", str(started_in)),
            "EIGHTFLOW_ALLOWED_MODELS": ",".join(allowed_models()),
            "EIGHTFLOW_API_BASE": env_default("EIGHTFLOW_API_BASE", ""),
            "PREFECT_API_URL": api_url,
            "PREFECT_UI_URL": ui_base_url(public_url or api_url.removesuffix("/api")) or "",
            "EIGHTFLOW_PROJECT_DIR": str(PROJECT_DIR),
            "EIGHTFLOW_HOME": str(get_settings().home),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "EIGHTFLOW_AUTO_SERVER": "0",
            # Workers poll every 10 s by default: runs waited ~7 s to be picked up here.
            "PREFECT_WORKER_QUERY_SECONDS": env_default("PREFECT_WORKER_QUERY_SECONDS", "2"),
        }
    )
    return env


class PrivateServer(LocalServer):
    """The Prefect server behind the front door: its UI calls the door's URL, CORS allows
    the door's origin, and its process environment holds no provider key."""

    def __init__(self, public_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.public_url = public_url

    def server_env(self) -> dict[str, str]:
        env = super().server_env()
        env = {k: v for k, v in env.items() if not PROVIDER_VARIABLE.match(k)}
        env["PREFECT_UI_API_URL"] = f"{self.public_url}/api"
        env["PREFECT_SERVER_CORS_ALLOWED_ORIGINS"] = self.public_url
        return env


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def _prepare_pool(api_url: str) -> list[str]:
    """The work pool, and the operator's model limits as global concurrency limits (the
    UI's Concurrency page shows them); returns the limits' names."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

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
        for name in LEGACY_SECRET_BLOCKS:
            try:
                block = await client.read_block_document_by_name(name, "secret")
            except ObjectNotFound:
                continue
            await client.delete_block_document(block.id)
    settings = get_settings()
    return await ensure_model_limits(PrefectLimits(), settings.model_limits, settings.rate_window_s)


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
    host = settings.server_host
    public_port = port or settings.server_port
    public_url = f"http://{host}:{public_port}"
    previous = load_state()
    reuse = previous.get("port") == public_port and previous.get("server_port")
    server = PrivateServer(
        public_url,
        host=host,
        port=int(previous["server_port"]) if reuse else free_port(host),
        database_url=postgres,
        name="stack-server",
    )
    door_pid = previous.get("front_door_pid") if reuse else None
    door_alive = door_pid is not None and _alive(int(door_pid))
    if not door_alive and port_open(public_port, host):
        raise RuntimeError(
            f"port {public_port} is already in use; stop what listens there or choose "
            "another with --port (or EIGHTFLOW_SERVER_PORT)"
        )
    log(
        f"starting the Prefect server on private port {server.port} "
        f"({'PostgreSQL' if postgres else 'SQLite under ' + str(server.data_dir)})"
    )
    server.start()
    runner_auth(create=True, home=server.home)
    database = "postgres" if postgres else "sqlite"
    resend_writes = not postgres  # the door's policy for its server's busy answers
    same_door = previous.get("door_resend_writes") == resend_writes
    if not (door_alive and healthy(public_url) and same_door):
        if door_pid and door_alive:  # not answering, or started for another policy
            stop_front_door(int(door_pid))
        log(f"starting the front door on {public_url}")
        door_pid = start_front_door(
            host, public_port, server.url, server.home, resend_busy_writes=resend_writes
        )
    env = stack_env(server.api_url, public_url=public_url)
    use_server(server.api_url, public_url)
    for name in ("EIGHTFLOW_DATA_ROOTS", "EIGHTFLOW_OUT_ROOT"):
        log(f"{name}={env[name]}")
    state: dict[str, Any] = {
        "server_pid": server.recorded_pid(),
        "server_port": server.port,
        "front_door_pid": door_pid,
        "port": public_port,
        "url": public_url,
        "api_url": f"{public_url}/api",
        "database": database,
        "door_resend_writes": resend_writes,
        "workers": [],
    }
    _save_state(state)
    log(f"creating work pool '{POOL}'")
    limits = asyncio.run(_prepare_pool(server.api_url))
    if limits:
        log(f"model limits shared by every run (UI: Concurrency): {', '.join(limits)}")
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
    profile = configure_profile(state["api_url"])
    log(
        f"started {workers} worker(s); UI: {ui_base_url(public_url)} (operator's password: "
        f"the auth string in {server.home / AUTH_FILE}; for the people who use the UI: "
        f"{server.home / RUNNER_FILE})"
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
    """Workers first (SIGINT), then the server, then the front door; returns what stopped."""
    state = load_state()
    stopped: dict[str, Any] = {"workers": [], "server": False, "front_door": False}
    for worker in state.get("workers", []):
        _stop_pid(int(worker["pid"]), signal.SIGINT, 15.0)
        stopped["workers"].append(worker["name"])
    server_port = state.get("server_port") or state.get("port")
    if server_port:
        stopped["server"] = LocalServer(port=int(server_port), name="stack-server").stop()
    if state.get("front_door_pid"):
        stopped["front_door"] = stop_front_door(int(state["front_door_pid"]))
    if state.get("api_url"):
        unconfigure_profile(state["api_url"])
    for port in {state.get("port"), server_port}:
        if port is not None and port_open(int(port)):
            raise RuntimeError(f"port {port} is still listening after stack down")
    _state_file().unlink(missing_ok=True)
    log(
        f"stopped {len(stopped['workers'])} worker(s), "
        f"{'the server' if stopped['server'] else 'no server'} and "
        f"{'the front door' if stopped['front_door'] else 'no front door'}"
    )
    return stopped


def status() -> dict[str, Any]:
    state = load_state()
    if not state:
        return {"running": False}
    server = LocalServer(port=int(state.get("server_port") or state["port"]), name="stack-server")
    door = healthy(state["url"]) if state.get("front_door_pid") else False
    return {
        "running": server.is_healthy() and door,
        "url": state["url"],
        "api_url": state["api_url"],
        "server_port": state.get("server_port"),
        "front_door": door,
        "database": state.get("database"),
        "workers": [{**w, "alive": _alive(int(w["pid"]))} for w in state.get("workers", [])],
    }


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
