"""The CLI's two consoles and its one way to fail, shared by every command module."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

# Piped output (CI, files) would otherwise wrap tables at 80 columns.
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)


def fail(message: str, code: int = 2) -> None:
    """Print ``message`` as an error and exit with ``code``.

    The message may quote file names and model text: rich markup in it is shown literally.
    """
    from eightflow.observe.inert import console_text

    err.print(f"[red]error:[/red] {console_text(message)}")
    raise typer.Exit(code)
