"""Attack: the API is open. The server starts with no auth, CORS ``*`` and CSRF off; the
process pool lets a run override its command; ``EIGHTFLOW_HOME`` and its SQLite files are
world-readable; a non-loopback bind is accepted without auth.

Starts a real Prefect server on a free port (e2e: ~20 s).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eightflow_app.deployments.stack import locked_job_template

from eightflow.server.auth import (
    AUTH_FILE,
    ServerSecurityError,
    auth_headers,
    client_env,
)
from eightflow.server.local import LocalServer, prefect_executable
from tests.support.ports import free_port
from tests.support.stack import private_homes_here

pytestmark = pytest.mark.e2e


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with private_homes_here(tmp_path_factory.mktemp("auth")) as homes:
        home, prefect_home = Path(homes["EIGHTFLOW_HOME"]), Path(homes["PREFECT_HOME"])
        local = LocalServer(home=home, port=free_port(), name="auth-test")
        try:
            local.start(timeout=180)
            yield {"server": local, "home": home, "prefect_home": prefect_home}
        finally:
            local.stop()


def test_an_unauthenticated_request_gets_401(server: dict[str, Any]) -> None:
    api = server["server"].api_url
    # (/health answers anyone, by Prefect's design: it says nothing but "up".)
    for path in ("/work_pools/local", "/admin/version", "/csrf-token?client=x"):
        assert httpx.get(f"{api}{path}", timeout=10).status_code == 401, path
    wrong = {"Authorization": "Basic ZXZpbDpndWVzcw=="}
    assert httpx.get(f"{api}/admin/version", headers=wrong, timeout=10).status_code == 401
    assert httpx.get(f"{api}/admin/version", headers=auth_headers(), timeout=10).status_code == 200
    # A write (or a read of Secret blocks with include_secrets) without auth is refused too;
    # CSRF protection answers first (403), before auth would (401).
    for path in ("/flows/filter", "/block_documents/filter?include_secrets=true"):
        assert httpx.post(f"{api}{path}", json={}, timeout=10).status_code in (401, 403), path


def test_csrf_protection_is_on(server: dict[str, Any]) -> None:
    api = server["server"].api_url
    response = httpx.post(f"{api}/flows/filter", json={}, headers=auth_headers(), timeout=10)
    assert response.status_code == 403 and "CSRF" in response.text
    token = httpx.get(f"{api}/csrf-token?client=test", headers=auth_headers(), timeout=10)
    assert token.status_code == 200
    headers = {
        **auth_headers(),
        "Prefect-Csrf-Token": token.json()["token"],
        "Prefect-Csrf-Client": "test",
    }
    assert httpx.post(f"{api}/flows/filter", json={}, headers=headers, timeout=10).is_success


@pytest.mark.parametrize(
    ("origin", "allowed"), [("ui", True), ("http://evil.example", False), ("null", False)]
)
def test_cors_allows_only_the_ui_origin(server: dict[str, Any], origin: str, allowed: bool) -> None:
    local = server["server"]
    origin = local.url if origin == "ui" else origin
    response = httpx.options(
        f"{local.api_url}/flows/filter",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert (response.headers.get("access-control-allow-origin") == origin) is allowed
    assert response.headers.get("access-control-allow-origin") != "*"


def test_home_and_its_files_are_private(server: dict[str, Any]) -> None:
    home = server["home"]
    assert _mode(home) == 0o700
    assert _mode(home / AUTH_FILE) == 0o600
    database = home / "prefect" / "prefect.db"
    assert database.exists() and _mode(database) == 0o600
    for path in home.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert _mode(path) & 0o077 == 0, path


def test_prefect_cli_works_through_the_profile(server: dict[str, Any]) -> None:
    """``server start`` writes the API URL and auth string into the active profile; a plain
    ``prefect`` command in that environment then works with no extra step. (In a
    subprocess with a private PREFECT_HOME: this process's Prefect settings are fixed.)"""
    local = server["server"]
    profiles = server["prefect_home"] / "profiles.toml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(
        {
            "PREFECT_HOME": str(server["prefect_home"]),
            "PREFECT_PROFILES_PATH": str(profiles),
            "EIGHTFLOW_CONFIGURE_PROFILE": "1",
        }
    )
    code = (
        f"from eightflow.server.auth import configure_profile; configure_profile({local.api_url!r})"
    )
    run = {"env": env, "capture_output": True, "text": True, "timeout": 180, "check": False}
    done = subprocess.run([sys.executable, "-c", code], **run)  # type: ignore[call-overload]
    assert done.returncode == 0, done.stderr
    assert _mode(profiles) == 0o600 and local.api_url in profiles.read_text()
    listed = subprocess.run([*prefect_executable(), "work-pool", "ls"], **run)  # type: ignore[call-overload]
    assert listed.returncode == 0, listed.stdout + listed.stderr
    env["PREFECT_API_AUTH_STRING"] = "eightflow:wrong"
    refused = subprocess.run([*prefect_executable(), "work-pool", "ls"], **run)  # type: ignore[call-overload]
    assert refused.returncode != 0


def test_clients_and_workers_get_the_auth_string(server: dict[str, Any]) -> None:
    stored = (server["home"] / AUTH_FILE).read_text().strip()
    assert client_env() == {"PREFECT_API_AUTH_STRING": stored}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_a_non_loopback_bind_without_auth_is_refused(
    host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EIGHTFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    monkeypatch.setenv("EIGHTFLOW_SERVER_AUTH", "0")
    with pytest.raises(ServerSecurityError, match=host):
        LocalServer(home=tmp_path, host=host, port=4310).server_env()
    monkeypatch.setenv("EIGHTFLOW_SERVER_AUTH", "1")
    assert LocalServer(home=tmp_path, host=host, port=4310).server_env()[
        "PREFECT_SERVER_API_AUTH_STRING"
    ]


def test_the_pool_template_does_not_let_a_run_set_its_command() -> None:
    from prefect.workers.process import ProcessWorker

    default = ProcessWorker.get_default_base_job_template()
    assert "command" in default["variables"]["properties"]
    locked = locked_job_template(default)
    for name in ("command", "env", "working_dir"):
        assert name not in locked["variables"]["properties"]
        assert name not in locked["job_configuration"]
    assert "{{ command }}" not in str(locked)
