"""An isolated eightflow stack for e2e tests: one door for what every stack fixture needs.

- :func:`isolated_env`: this process's environment with nothing of Prefect's or eightflow's
  own, private homes under a scratch folder, litellm offline; then the test's variables.
- :func:`private_homes`: the same homes for a server this very process starts.
- :func:`running_stack`: ``eightflow stack up`` on a free port (4300-4999) in that
  environment, yielding a :class:`Stack`; ``stack down`` on the way out, which must leave
  nothing listening and no ``stack.json`` behind.
- :class:`Door`: raw HTTP to the stack's front door as one role, with Prefect's CSRF headers.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
# What points a process at someone else's server.
FOREIGN_SERVER = (
    "PREFECT_API_URL",
    "PREFECT_API_AUTH_STRING",
    "PREFECT_SERVER_API_AUTH_STRING",
    "EIGHTFLOW_SERVER_AUTH",
)
Check = Callable[[bool, str], None]


def private_homes(base: Path) -> dict[str, str]:
    """``EIGHTFLOW_HOME`` and Prefect's home and profiles, all under ``base``."""
    prefect_home = base / "prefect-home"
    return {
        "EIGHTFLOW_HOME": str(base / "home"),
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_PROFILES_PATH": str(prefect_home / "profiles.toml"),
    }


def isolated_env(base: Path, **variables: str) -> dict[str, str]:
    """An environment for a stack and its clients: this process's, less every ``PREFECT_*``
    and ``EIGHTFLOW_*`` variable, with private homes under ``base`` (see
    :func:`private_homes`), no server started behind a command's back, no profile written
    (``EIGHTFLOW_CONFIGURE_PROFILE=1`` in ``variables`` asks for one) and litellm offline;
    then ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "EIGHTFLOW_"))}
    env.update(private_homes(base))
    env.update(
        {
            "EIGHTFLOW_AUTO_SERVER": "0",
            "EIGHTFLOW_CONFIGURE_PROFILE": "0",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_OFFLINE_MODE": "true",
        }
    )
    env.update(variables)
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


@contextmanager
def private_homes_here(base: Path) -> Iterator[dict[str, str]]:
    """This process's ``os.environ`` with :func:`private_homes` under ``base`` and no other
    server's URL or auth string, for a server the test starts in-process; restored after."""
    saved = dict(os.environ)
    homes = private_homes(base)
    os.environ.update(homes)
    for name in FOREIGN_SERVER:
        os.environ.pop(name, None)
    try:
        yield homes
    finally:
        os.environ.clear()
        os.environ.update(saved)


def eightflow(
    *args: str, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``eightflow ARGS`` in a child process, from the checkout's root."""
    command = [sys.executable, "-m", "eightflow.cli.main", *args]
    return subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


class Door:
    """Raw HTTP to the front door as one role, with Prefect's CSRF headers."""

    def __init__(self, api: str, credential: str) -> None:
        self.api = api
        self.auth = {"Authorization": "Basic " + base64.b64encode(credential.encode()).decode()}
        self.csrf: dict[str, str] = {}
        self.client = uuid.uuid4().hex  # Prefect keeps one CSRF token per client id

    def __call__(self, method: str, path: str, **kw: Any) -> httpx.Response:
        if not self.csrf:
            got = httpx.get(
                f"{self.api}/csrf-token?client={self.client}", headers=self.auth, timeout=60
            )
            got.raise_for_status()
            token = got.json()["token"]
            self.csrf = {"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": self.client}
        headers = {**self.auth, **self.csrf}
        return httpx.request(method, self.api + path, headers=headers, timeout=60, **kw)

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        response = self(method, path, **kw)
        assert response.is_success, (method, path, response.status_code, response.text)
        return response.json() if response.content else None


@dataclass
class Stack:
    """A running stack: where it answers, its home, and the environment it started in."""

    port: int
    env: dict[str, str]
    up: subprocess.CompletedProcess[str]

    @property
    def home(self) -> Path:
        return Path(self.env["EIGHTFLOW_HOME"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api"

    @property
    def admin_auth(self) -> str:
        """The operator's string (``stack up`` writes it to the home's ``prefect-auth``)."""
        return (self.home / "prefect-auth").read_text().strip()

    @property
    def runner_auth(self) -> str:
        """The UI's runner credential (``runner-auth``)."""
        return (self.home / "runner-auth").read_text().strip()

    def client_env(self) -> dict[str, str]:
        """The operator's shell: a client of the stack with the admin string."""
        return {**self.env, "PREFECT_API_URL": self.api, "PREFECT_API_AUTH_STRING": self.admin_auth}


def _assert(condition: bool, why: str) -> None:
    assert condition, why


def port_listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def running_stack(
    env: dict[str, str], *args: str, timeout: float = 600, check: Check = _assert
) -> Iterator[Stack]:
    """``eightflow stack up --port P ARGS`` in ``env`` (from :func:`isolated_env`), and
    ``stack down`` after, even when the start failed part-way. ``check(started, output)``
    judges the start: an assertion unless the test passes its ``require``."""
    port = free_port()
    up = eightflow("stack", "up", "--port", str(port), *args, env=env, timeout=timeout)
    try:
        check(up.returncode == 0, f"the stack did not start: {up.stdout}{up.stderr}")
        yield Stack(port=port, env=env, up=up)
    finally:
        down = eightflow("stack", "down", env=env, timeout=120)
        if up.returncode == 0:
            assert down.returncode == 0, down.stdout + down.stderr
            assert not port_listening(port), "the front door is still listening"
            assert not (Path(env["EIGHTFLOW_HOME"]) / "stack.json").exists()


def wait_for(what: str, check: Callable[[], Any], timeout: float = 300) -> Any:
    """Poll ``check`` each second until it gives something truthy (returned); fail naming
    ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")
