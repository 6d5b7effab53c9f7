"""Workers get an allow-listed environment, not the operator's whole one."""

from __future__ import annotations

from pathlib import Path

import pytest
from eightflow_app.deployments.stack import PrivateServer, stack_env
from eightflow_app.deployments.worker_env import kept, worker_environment


@pytest.mark.parametrize(
    ("name", "inherited"),
    [
        ("PATH", True),
        ("HOME", True),
        ("LANG", True),
        ("LC_ALL", True),
        ("EIGHTFLOW_DATA_ROOTS", True),
        ("LITELLM_LOCAL_MODEL_COST_MAP", True),
        ("PREFECT_API_URL", True),
        ("PREFECT_API_AUTH_STRING", True),  # the worker's own way in
        ("OPENAI_API_KEY", True),
        ("ANTHROPIC_API_KEY", True),
        ("AZURE_API_BASE", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("PREFECT_SERVER_API_AUTH_STRING", False),  # the server's setting, not a client's
        ("PREFECT_API_DATABASE_CONNECTION_URL", False),  # holds the database password
        ("PREFECT_SERVER_DATABASE_CONNECTION_URL", False),
        ("GITHUB_TOKEN", False),
        ("SSH_AUTH_SOCK", False),
        ("DATABASE_URL", False),
        ("PGPASSWORD", False),
        ("LD_PRELOAD", False),
        ("PYTHONSTARTUP", False),
        ("MY_API_KEY_BACKUP", False),
    ],
)
def test_which_variables_a_worker_inherits(name: str, inherited: bool) -> None:
    assert kept(name) is inherited


def test_stack_env_starts_from_the_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "x" * 36)
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://u:pw@h/db")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-worker-needs-this")
    env = stack_env("http://127.0.0.1:4999/api", started_in=Path("/srv/docs"))
    assert "GITHUB_TOKEN" not in env
    assert "PREFECT_API_DATABASE_CONNECTION_URL" not in env
    assert env["OPENAI_API_KEY"] == "sk-worker-needs-this"
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4999/api"
    assert set(env) <= set(worker_environment(env))


def test_the_private_server_process_holds_no_provider_key(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-the-server")
    server = PrivateServer("http://127.0.0.1:4777", home=home, port=4778)
    env = server.server_env()
    assert "OPENAI_API_KEY" not in env
    assert env["PREFECT_UI_API_URL"] == "http://127.0.0.1:4777/api"  # the UI calls the door
    assert env["PREFECT_SERVER_CORS_ALLOWED_ORIGINS"] == "http://127.0.0.1:4777"
    assert env["PREFECT_SERVER_API_PORT"] == "4778"
