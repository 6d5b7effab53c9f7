"""Choosing the Prefect API before Prefect is imported.

Order: an API the user configured (``PREFECT_API_URL``); else the local eightflow server if
it is up; else start it (``EIGHTFLOW_AUTO_SERVER``, on by default); else Prefect's
ephemeral mode with a start-up timeout that this 2-core machine can meet. Whatever it
picks, it says so in one plain sentence.

The CLI calls :func:`connect` before it imports Prefect. The Python API (``execute()``,
``run()``, ``WorkflowMonitor``) calls :func:`ensure_connected`, which applies the same rules
once per process, also when the script imported Prefect first. Prefect's own telemetry
(its server's analytics heartbeat) is off in every server eightflow starts, the ephemeral
one included: its heartbeat wrote to the ephemeral server's SQLite while runs did, and
printed ``sqlite3.OperationalError: database is locked`` tracebacks.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from eightflow.server.auth import use_server
from eightflow.server.local import LocalServer
from eightflow.server.ui_links import ui_base_url
from eightflow.settings import get_settings

__all__ = ["Connection", "connect", "ensure_connected"]


@dataclass
class Connection:
    mode: str  # configured | local | started | ephemeral
    api_url: str | None
    ui_url: str | None
    message: str


_connection: Connection | None = None


def ensure_connected() -> Connection:
    """Choose this process's Prefect API once, by :func:`connect`'s rules.

    An API already set in Prefect's settings (a profile, ``temporary_settings``, a test
    harness) counts as configured, unless it is the local eightflow server's own URL (what
    ``eightflow server start`` writes into the profile): that server is checked, and started
    if it is down (after a reboot), as when nothing is configured. When Prefect was imported
    before the choice was made, its global settings are re-read so the choice takes effect.
    """
    if _connection is not None:
        return _connection
    if "prefect" in sys.modules:
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
        ours = LocalServer().api_url  # a profile `server start` wrote: checked and started below
        if url and not os.environ.get("PREFECT_API_URL") and url.rstrip("/") != ours:
            message = f"Using the Prefect API at {url}."
            return _remember(Connection("configured", url, None, message))
    connection = connect()
    if connection.mode != "configured" and "prefect" in sys.modules:
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()
    if connection.mode in ("started", "ephemeral"):
        print(connection.message, file=sys.stderr, flush=True)
    return connection


def _remember(connection: Connection) -> Connection:
    global _connection
    _connection = connection
    return connection


def connect(auto_start: bool | None = None) -> Connection:
    """Point this process at a Prefect API; call before importing Prefect.

    Raises ``ServerClashError`` (one line, naming the port, the other home and the fix)
    when our port holds another ``EIGHTFLOW_HOME``'s server."""
    return _remember(_connect(auto_start))


def _connect(auto_start: bool | None) -> Connection:
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        ui = ui_base_url(os.environ.get("PREFECT_UI_URL") or configured.removesuffix("/api"))
        if ui and not os.environ.get("PREFECT_UI_URL"):
            os.environ["PREFECT_UI_URL"] = ui  # Prefect's "View at" lines open the same UI
        return Connection("configured", configured, ui, f"Using the Prefect API at {configured}.")
    server = LocalServer()
    settings = get_settings()
    auto = settings.auto_server if auto_start is None else auto_start
    if server.is_healthy():
        server.check_ours()  # another home's server on our port: one clear error, no 401
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
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry heartbeat
    return Connection(
        "ephemeral",
        None,
        None,
        f"{reason} Running on a temporary in-process Prefect server instead: slower to start "
        "and its runs are not kept. Start a persistent one with `eightflow server start`.",
    )
