"""Whose server is on this port: two ``EIGHTFLOW_HOME``s, one port.

Two homes default to the same port (4200). Prefect answers ``/api/health`` to anyone, so
the second home took the first home's server for its own, and its first real request,
carrying its own auth string, died in a ``PrefectHTTPStatusError: 401`` traceback.

- :func:`check_server_is_ours` asks an authenticated endpoint with this home's auth string;
  a 401 or 403 there is :class:`ServerClashError`: one line naming the port, the home whose
  server it is (when known), and the fix (a free ``EIGHTFLOW_SERVER_PORT``, or stopping it).
- The home is known from a marker the server's start writes (:func:`record_owner`):
  ``$XDG_RUNTIME_DIR`` (else the temp folder) ``/eightflow-<uid>/server-<host>-<port>.json``
  with the home and the pid, in a 0700 folder that must be this user's. ``stop`` removes
  it; a marker whose pid is gone is ignored.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import tempfile
from pathlib import Path

import httpx

from eightflow.server.auth import auth_headers


class ServerClashError(RuntimeError):
    """The port answers, but it is another home's server: our auth string is refused."""


def marker_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"eightflow-{os.getuid()}"


def _marker(host: str, port: int) -> Path:
    return marker_dir() / f"server-{host}-{port}.json"


def _own_private_dir(path: Path) -> bool:
    """``path`` exists as a real folder of this user's, 0700 (created so if missing)."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False  # someone else's, or a link: write nothing there
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return True


def record_owner(host: str, port: int, home: Path, pid: int | None) -> None:
    """Note that ``home``'s server (``pid``) serves ``host:port``; best effort."""
    folder = marker_dir()
    if not _own_private_dir(folder):
        return
    path = _marker(host, port)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"home": str(home), "pid": pid}, fh)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def forget_owner(host: str, port: int, home: Path) -> None:
    """Remove the marker of ``home``'s server on ``host:port`` (not another home's)."""
    owner = _read(host, port)
    if owner is not None and owner.get("home") == str(home):
        _marker(host, port).unlink(missing_ok=True)


def _read(host: str, port: int) -> dict[str, object] | None:
    path = _marker(host, port)
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def owner_home(host: str, port: int) -> str | None:
    """The home whose server holds ``host:port``, when its marker says so and it runs."""
    owner = _read(host, port)
    if owner is None or not isinstance(owner.get("home"), str):
        return None
    pid = owner.get("pid")
    if isinstance(pid, int) and not process_alive(pid):
        return None
    return str(owner["home"])


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
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


def free_port(host: str) -> int | None:
    """A port nothing listens on now (a suggestion: it may be taken by the time it is used)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            return int(sock.getsockname()[1])
    except OSError:
        return None


def clash_message(host: str, port: int, home: Path) -> str:
    other = owner_home(host, port)
    whose = f"the server of EIGHTFLOW_HOME={other}" if other else "another EIGHTFLOW_HOME's server"
    suggestion = free_port(host)
    port_hint = f"EIGHTFLOW_SERVER_PORT={suggestion}" if suggestion else "EIGHTFLOW_SERVER_PORT"
    stop = f"EIGHTFLOW_HOME={other} eightflow server stop" if other else "eightflow server stop"
    return (
        f"port {port} on {host} is {whose}, which refuses this home's auth string "
        f"(EIGHTFLOW_HOME={home}): give this home its own port ({port_hint}) "
        f"or stop that server (`{stop}`)"
    )


def check_server_is_ours(host: str, port: int, home: Path, timeout: float = 2.0) -> None:
    """Raise :class:`ServerClashError` when the server on ``host:port`` refuses ``home``'s
    auth string (Prefect's ``/health`` answers anyone; ``/admin/version`` does not)."""
    try:
        response = httpx.get(
            f"http://{host}:{port}/api/admin/version", timeout=timeout, headers=auth_headers(home)
        )
    except httpx.HTTPError:
        return  # gone, or too slow: the caller's own probe decides
    if response.status_code in (401, 403):
        raise ServerClashError(clash_message(host, port, home))
