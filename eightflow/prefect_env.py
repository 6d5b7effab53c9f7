"""Choosing the Prefect API before Prefect is imported.

Order: an API the user configured (``PREFECT_API_URL``); else the local eightflow server if
it is up; else start it (``EIGHTFLOW_AUTO_SERVER``, on by default); else Prefect's
ephemeral mode with a start-up timeout that this 2-core machine can meet. Whatever it
picks, it says so in one plain sentence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from eightflow.local_server import LocalServer
from eightflow.server_auth import use_server
from eightflow.settings import get_settings


@dataclass
class Connection:
    mode: str  # configured | local | started | ephemeral
    api_url: str | None
    ui_url: str | None
    message: str


def connect(auto_start: bool | None = None) -> Connection:
    """Point this process at a Prefect API; call before importing Prefect."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        ui = os.environ.get("PREFECT_UI_URL") or configured.removesuffix("/api")
        return Connection("configured", configured, ui, f"Using the Prefect API at {configured}.")
    server = LocalServer()
    settings = get_settings()
    auto = settings.auto_server if auto_start is None else auto_start
    if server.is_healthy():
        _use(server)
        return Connection(
            "local", server.api_url, server.url, f"Using the local Prefect server at {server.url}."
        )
    if auto:
        try:
            server.start()
        except RuntimeError as exc:
            return _ephemeral(f"Could not start the local Prefect server ({exc}).")
        _use(server)
        return Connection(
            "started",
            server.api_url,
            server.url,
            f"Started a local Prefect server at {server.url} (data in {server.data_dir}); "
            "it keeps running for the UI: stop it with `eightflow server stop`.",
        )
    return _ephemeral("No Prefect server is running.")


def _use(server: LocalServer) -> None:
    use_server(server.api_url, server.url)  # with the server's auth string


def _ephemeral(reason: str) -> Connection:
    # Measured: the first ephemeral start took 29 s here, past the 20 s default.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    return Connection(
        "ephemeral",
        None,
        None,
        f"{reason} Running on a temporary in-process Prefect server instead: slower to start "
        "and its runs are not kept. Start a persistent one with `eightflow server start`.",
    )
