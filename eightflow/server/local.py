"""A persistent local Prefect server on 127.0.0.1, its data under ``EIGHTFLOW_HOME``.

Why not Prefect's ephemeral mode: measured on a 2-core machine it takes 11-30 s to start in
every process, its first start timed out against the 20 s default, and it kept only 6 of
200 task runs once the process exited. A server started once and reused is faster from the
second run on and keeps every run for the UI.

The server is Prefect's own: ``prefect server start`` runs it, ``prefect server stop`` stops
it and ``prefect server status`` reports on it, with ``PREFECT_HOME`` set per server (Prefect
keeps its pid file there). Four things are ours, each for a measured reason:

- the health probe before every run is one HTTP GET: ``prefect server status`` took
  1.1-1.9 s per call here;
- the start command runs in a new session: ``--background`` leaves the server in the
  caller's process group, so a Ctrl-C in the terminal that ran ``eightflow run`` would stop
  it too;
- after ``prefect server stop`` (a SIGTERM, returning at once) we wait until the port is
  closed, so "stopped" means nothing listens any more.

- the server runs in the foreground of its own process (we write Prefect's pid file), its
  output appended to ``logs/<name>.log``. Not ``--background``: that pipes the server's
  stdout and stderr to the start command, which exits at once, so the server's first line
  of output met a pipe with no reader (SIGPIPE, EPIPE) and the server exited with status 1
  in the middle of a batch, its flow runs left Running for ever (seen with strace during
  ``bench/scale.py``'s two-shard phase: issue 23).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from eightflow.server.auth import (
    auth_headers,
    client_env,
    make_home_private,
    server_security_env,
)
from eightflow.server.owner import (
    check_server_is_ours,
    forget_owner,
    process_alive,
    record_owner,
)
from eightflow.server.ui_links import ui_base_url
from eightflow.settings import get_settings, user_path


def prefect_executable() -> list[str]:
    beside = Path(sys.executable).with_name("prefect")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("prefect")
    if found:
        return [found]
    return [sys.executable, "-m", "prefect"]


# Prefect's task-run recorder writes each task-run event in its own INSERT by default
# (batch size 1), and compiling that upsert is most of the server's CPU: 19-25 s of CPU for
# a 1,000-document batch on this 2-core machine, a core the batch's own processes then lack.
# Batched, it was 9-10 s; task runs reach the UI at most a second later.
# The event persister likewise: by default it writes every 20 events (or 5 s), each write a
# session, a look-up and two inserts; every 500 events or 2 s it spent 3-4% less of the
# server's CPU in a 300-document batch (2.13-2.17 s against 2.22-2.23 s, interleaved), and
# the UI's event feed is no later than before (2 s at most instead of 5).
SERVER_TUNING = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "500",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "500",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_READ_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "2",
}


class LocalServer:
    """Start, stop and probe one Prefect server through Prefect's own CLI."""

    def __init__(
        self,
        home: Path | None = None,
        host: str | None = None,
        port: int | None = None,
        database_url: str | None = None,
        name: str = "server",
    ) -> None:
        settings = get_settings()
        self.home = user_path(home or settings.home)
        self.host = host or settings.server_host
        self.port = port or settings.server_port
        self.name = name
        self.data_dir = self.home / "prefect"
        self.database_url = database_url or f"sqlite+aiosqlite:///{self.data_dir / 'prefect.db'}"
        # One PREFECT_HOME per server: Prefect's pid file for a background server lives there.
        self.prefect_home = self.data_dir / name
        self.log_file = self.home / "logs" / f"{name}.log"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def is_healthy(self, timeout: float = 1.0) -> bool:
        try:
            response = httpx.get(
                f"{self.api_url}/health", timeout=timeout, headers=auth_headers(self.home)
            )
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    def check_ours(self) -> None:
        """A server answers on our port: raise ``ServerClashError`` if it is another
        home's (it refuses our auth string), rather than fail later with a 401."""
        check_server_is_ours(self.host, self.port, self.home)

    def server_env(self) -> dict[str, str]:
        env = {**SERVER_TUNING, **os.environ}  # the operator's own settings win
        env.update(
            {
                "PREFECT_HOME": str(self.prefect_home),
                "PREFECT_API_DATABASE_CONNECTION_URL": self.database_url,
                "PREFECT_SERVER_API_HOST": self.host,
                "PREFECT_SERVER_API_PORT": str(self.port),
                # The UI must call this port, not the default 4200.
                "PREFECT_UI_API_URL": self.api_url,
                # Links the server writes open the UI version eightflow links to.
                "PREFECT_UI_URL": ui_base_url(self.url) or self.url,
                # No telemetry heartbeat from the servers eightflow starts.
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            }
        )
        env.pop("PREFECT_API_URL", None)
        env.update(server_security_env(self.host, self.port, self.home))  # auth, CSRF, CORS
        return env

    def _prefect(
        self, *args: str, timeout: float = 60.0, nice: int = 0
    ) -> subprocess.CompletedProcess[str]:
        """Run a ``prefect`` CLI command against this server; its output goes to the log.

        ``nice`` > 0 lowers the command's CPU priority, and that of the server it starts
        (a child inherits it, every thread included).
        """
        env = {**self.server_env(), "PREFECT_API_URL": self.api_url, **client_env(self.home)}
        niced = ["nice", "-n", str(nice)] if nice > 0 and shutil.which("nice") else []
        return subprocess.run(
            [*niced, *prefect_executable(), *args],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            start_new_session=True,
            umask=0o077,  # the server's database, pid file and logs are the owner's only
        )

    def start(self, timeout: float = 90.0) -> dict[str, Any]:
        """Start in the background and wait until healthy. Idempotent."""
        if self.is_healthy():
            self.check_ours()
            if self.recorded_pid() is not None:  # ours: (re)write the marker
                record_owner(self.host, self.port, self.home, self.recorded_pid())
            return self.describe()
        make_home_private(self.home)  # first: the folders below are made inside a 0700 home
        self.prefect_home.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file = self.prefect_home / "server.pid"
        if self.recorded_pid() is None:
            pid_file.unlink(missing_ok=True)  # left by a server that died: not running
        process = self._spawn_server(nice=get_settings().server_nice)
        pid_file.write_text(str(process.pid))  # what `prefect server stop` reads
        make_home_private(self.home)  # the log too
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_healthy():
                make_home_private(self.home)  # and the database the server created
                record_owner(self.host, self.port, self.home, self.recorded_pid())
                return self.describe()
            if process.poll() is not None or self.recorded_pid() is None:
                pid_file.unlink(missing_ok=True)
                raise RuntimeError(
                    f"`prefect server start` failed ({_last_log_line(self.log_file)}); "
                    f"see {self.log_file}"
                )
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Prefect server not healthy after {timeout:.0f} s; see {self.log_file}")

    def _spawn_server(self, nice: int = 0) -> subprocess.Popen[bytes]:
        """``prefect server start`` in a session of its own, its output appended to the log
        (see the module's notes: never a pipe that nobody reads)."""
        env = {**self.server_env(), "PREFECT_API_URL": self.api_url, **client_env(self.home)}
        niced = ["nice", "-n", str(nice)] if nice > 0 and shutil.which("nice") else []
        command = ["server", "start", "--host", self.host, "--port", str(self.port)]
        with self.log_file.open("ab") as log:
            log.write(f"--- prefect server start on port {self.port}\n".encode())
            log.flush()
            process = subprocess.Popen(
                [*niced, *prefect_executable(), *command],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                umask=0o077,  # the server's database, pid file and logs are the owner's only
            )
        # Reaped when it ends, so a long-lived caller keeps no zombie.
        threading.Thread(target=process.wait, name="eightflow-server-reaper", daemon=True).start()
        return process

    def recorded_pid(self) -> int | None:
        """The pid in Prefect's pid file, when that process is alive."""
        try:
            pid = int((self.prefect_home / "server.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if process_alive(pid) else None

    def stop(self, timeout: float = 20.0) -> bool:
        """``prefect server stop``, then wait for the port to close. True if one was stopped."""
        pid = self.recorded_pid()
        if pid is None:
            (self.prefect_home / "server.pid").unlink(missing_ok=True)
            return False
        self._log("stop", self._prefect("server", "stop"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (process_alive(pid) or self.is_healthy(0.2)):
            time.sleep(0.2)
        if process_alive(pid):  # did not go on SIGTERM
            os.kill(pid, signal.SIGKILL)
        forget_owner(self.host, self.port, self.home)
        return True

    def status(self) -> dict[str, Any]:
        """``prefect server status``, with where the data and pid file are."""
        answer = self._prefect("server", "status", "--output", "json")
        try:
            reported = json.loads(answer.stdout)
        except ValueError:
            reported = {"status": "unavailable"}
        return {**self.describe(), "running": reported.get("status") == "available", **reported}

    def describe(self) -> dict[str, Any]:
        return {
            "running": self.is_healthy(),
            "pid": self.recorded_pid(),
            "url": self.url,
            "api_url": self.api_url,
            "database": self.database_url.split("@")[-1],
            "prefect_home": str(self.prefect_home),
            "log": str(self.log_file),
        }

    def _log(self, what: str, done: subprocess.CompletedProcess[str]) -> None:
        with self.log_file.open("a") as log:
            log.write(f"--- prefect server {what}: exit {done.returncode}\n")
            log.write(done.stdout + done.stderr)


def _last_log_line(log_file: Path) -> str:
    try:
        text = log_file.read_text(errors="replace")[-4000:]
    except OSError:
        return "no log"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


_alive = process_alive  # deployments/stack.py imports it by this name
