"""A persistent local Prefect server on 127.0.0.1, its data under ``EIGHTFLOW_HOME``.

Why not Prefect's ephemeral mode: measured on a 2-core machine it takes 11-30 s to start in
every process, its first start timed out against the 20 s default, and it kept only 6 of
200 task runs once the process exited. A server started once and reused is faster from the
second run on and keeps every run for the UI.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from eightflow.server_auth import auth_headers, make_home_private, server_security_env
from eightflow.settings import get_settings


def prefect_executable() -> list[str]:
    beside = Path(sys.executable).with_name("prefect")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("prefect")
    if found:
        return [found]
    return [sys.executable, "-m", "prefect"]


class LocalServer:
    """Start, stop and probe one Prefect server; its pid and port live in a small file."""

    def __init__(
        self,
        home: Path | None = None,
        host: str | None = None,
        port: int | None = None,
        database_url: str | None = None,
        name: str = "server",
    ) -> None:
        settings = get_settings()
        self.home = (home or settings.home).expanduser()
        self.host = host or settings.server_host
        self.port = port or settings.server_port
        self.name = name
        self.data_dir = self.home / "prefect"
        self.database_url = database_url or f"sqlite+aiosqlite:///{self.data_dir / 'prefect.db'}"
        self.pid_file = self.home / f"{name}.json"
        self.log_file = self.home / "logs" / f"{name}.log"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def is_healthy(self, timeout: float = 1.0) -> bool:
        try:
            response = httpx.get(f"{self.api_url}/health", timeout=timeout, headers=auth_headers())
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    def server_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PREFECT_HOME": str(self.data_dir),
                "PREFECT_API_DATABASE_CONNECTION_URL": self.database_url,
                "PREFECT_SERVER_API_HOST": self.host,
                "PREFECT_SERVER_API_PORT": str(self.port),
                # The UI must call this port, not the default 4200.
                "PREFECT_UI_API_URL": self.api_url,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            }
        )
        env.pop("PREFECT_API_URL", None)
        env.update(server_security_env(self.host, self.port))  # auth, CSRF, CORS
        return env

    def start(self, timeout: float = 90.0) -> dict[str, Any]:
        """Start in the background and wait until healthy. Idempotent."""
        if self.is_healthy():
            return self.status()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        make_home_private(self.home)
        log = self.log_file.open("ab")
        process = subprocess.Popen(
            [
                *prefect_executable(),
                "server",
                "start",
                "--host",
                self.host,
                "--port",
                str(self.port),
            ],
            env=self.server_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,  # the server's database and logs are the owner's only
        )
        self.pid_file.write_text(
            json.dumps(
                {"pid": process.pid, "host": self.host, "port": self.port, "started": time.time()}
            )
        )
        make_home_private(self.home)  # the pid file and log too
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"Prefect server exited with code {process.returncode}; see {self.log_file}"
                )
            if self.is_healthy():
                return self.status()
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Prefect server not healthy after {timeout:.0f} s; see {self.log_file}")

    def recorded_pid(self) -> int | None:
        try:
            return int(json.loads(self.pid_file.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            return None

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop the server we started (its whole process group). True if one was stopped."""
        pid = self.recorded_pid()
        if pid is None or not _alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return False
        for sig, wait in (
            (signal.SIGINT, timeout / 2),
            (signal.SIGTERM, timeout / 2),
            (signal.SIGKILL, 5),
        ):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.2)
            if not _alive(pid):
                break
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> dict[str, Any]:
        pid = self.recorded_pid()
        return {
            "running": self.is_healthy(),
            "pid": pid if pid and _alive(pid) else None,
            "url": self.url,
            "api_url": self.api_url,
            "database": self.database_url.split("@")[-1],
            "log": str(self.log_file),
        }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child is not alive
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
