"""The CLI's two consoles and its one way to fail, shared by every command module."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.console import Console

# Piped output (CI, files) would otherwise wrap tables at 80 columns.
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)


def fail(message: str, code: int = 2) -> None:
    """Print ``message`` as an error and exit with ``code``.

    The message may quote file names and model text: rich markup in it is shown literally.
    """
    from eightflow.safety.inert import console_text

    err.print(f"[red]error:[/red] {console_text(message)}")
    raise typer.Exit(code)


def connect() -> Any:
    """``eightflow.server.prefect_env.connect`` for a command: another home's server on our port
    is a one-line error naming the port, that home and the fix, never a 401 traceback."""
    from eightflow.server.owner import ServerClashError
    from eightflow.server.prefect_env import connect as choose_api

    try:
        return choose_api()
    except ServerClashError as exc:
        fail(str(exc))
        raise  # not reached: fail() exits
