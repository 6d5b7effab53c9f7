"""Start, probe and stop the front door as a background process (its own session, so a
Ctrl-C in the terminal that started it does not stop it); its log is
``EIGHTFLOW_HOME/logs/front-door.log``: one line per request, role, method, path, status."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from eightflow.server.auth import make_home_private
from eightflow.server.local import _alive

LOG_NAME = "front-door.log"


def healthy(url: str, timeout: float = 1.0) -> bool:
    """The front door answers, and so does the server behind it."""
    try:
        return httpx.get(f"{url}/api/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def start_front_door(
    host: str,
    port: int,
    upstream: str,
    home: Path,
    timeout: float = 60.0,
    *,
    resend_busy_writes: bool = False,
) -> int:
    """Start the door on ``host:port`` for ``upstream``; returns its pid once it answers.
    ``resend_busy_writes``: the server's database is SQLite (see
    :mod:`eightflow.server.busy_retry`)."""
    url = f"http://{host}:{port}"
    log_file = home / "logs" / LOG_NAME
    log_file.parent.mkdir(parents=True, exist_ok=True)
    make_home_private(home)
    command = [sys.executable, "-m", "eightflow.server.front_door", "--host", host]
    command += ["--port", str(port), "--upstream", upstream, "--home", str(home)]
    command += ["--resend-busy-writes"] if resend_busy_writes else []
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    with log_file.open("ab") as handle:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url):
            return process.pid
        if process.poll() is not None:
            raise RuntimeError(
                f"the front door exited while starting (exit {process.returncode}); see {log_file}"
            )
        time.sleep(0.3)
    stop_front_door(process.pid)
    raise RuntimeError(f"the front door did not answer on {url} after {timeout:.0f} s")


def stop_front_door(pid: int, timeout: float = 10.0) -> bool:
    """SIGTERM its process group, SIGKILL if it lingers; True if one was running."""
    if not _alive(pid):
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
            if not _alive(pid):
                return True
            time.sleep(0.1)
    return True
