"""The CLI's two consoles and its one way to fail, shared by every command module."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

# Piped output (CI, files) would otherwise wrap tables at 80 columns.
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)


def fail(message: str, code: int = 2) -> None:
    """Print ``message`` as an error and exit with ``code``."""
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)
