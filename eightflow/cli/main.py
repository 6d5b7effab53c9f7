"""``eightflow``: run, list and show workflows; manage the local Prefect server.

Heavy imports (Prefect, litellm, the workflows) happen inside commands, after the Prefect
API has been chosen, so ``eightflow --help`` and ``eightflow workflows`` stay quick.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from eightflow.errors import WorkflowError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
server_app = typer.Typer(no_args_is_help=True, help="A local Prefect server on 127.0.0.1.")
app.add_typer(server_app, name="server")

out = Console()
err = Console(stderr=True)

ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", help="litellm model string, e.g. openai/gpt-4o-mini."),
]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


@app.command("run")
def run_command(
    workflow: Annotated[str, typer.Argument(help="Workflow name, see `eightflow workflows`.")],
    path: Annotated[Path, typer.Argument(help="The document (.txt, .md, .html, .pdf, .docx).")],
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON only.")] = False,
    refresh: Annotated[bool, typer.Option(help="Ignore cached model answers.")] = False,
) -> None:
    """Run a workflow on one file and print its result and step table."""
    from eightflow.prefect_env import connect

    connection = connect()
    (err if as_json else out).print(f"[dim]{connection.message}[/dim]")
    from eightflow.registry import load_workflow
    from eightflow.store.cache import ResponseCache

    try:
        cls = load_workflow(workflow)
        inputs = cls.inputs_from_path(str(path))
    except WorkflowError as exc:
        _fail(str(exc))
        return
    cache = None if refresh else ResponseCache.default()
    wf = cls(model=model, cache=cache)
    result = asyncio.run(wf.execute(raise_on_failure=False, **inputs))
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        from eightflow.cli.render import print_result

        print_result(result, out)
        if result.ui_url:
            out.print(f"\nPrefect UI: {result.ui_url}")
    raise typer.Exit(0 if result.ok else 1)


@app.command("workflows")
def workflows_command() -> None:
    """List the registered workflows."""
    from eightflow.registry import _targets

    for name, target in sorted(_targets().items()):
        out.print(f"{name}  [dim]{target}[/dim]")


@app.command("show")
def show_command(
    workflow: str,
    mermaid_only: Annotated[bool, typer.Option("--mermaid", help="Print only Mermaid.")] = False,
) -> None:
    """Print a workflow's DAG as text and as Mermaid."""
    from eightflow.registry import load_workflow

    try:
        definition = load_workflow(workflow)().definition
    except WorkflowError as exc:
        _fail(str(exc))
        return
    if not mermaid_only:
        out.print(definition.to_text(), markup=False)
        out.print()
    out.print(definition.to_mermaid(), markup=False)


@server_app.command("start")
def server_start(port: Annotated[int | None, typer.Option(help="Port (default 4200).")] = None) -> None:
    """Start the local Prefect server (SQLite under EIGHTFLOW_HOME)."""
    from eightflow.local_server import LocalServer

    server = LocalServer(port=port)
    try:
        status = server.start()
    except RuntimeError as exc:
        _fail(str(exc))
        return
    out.print(f"Prefect server running at {status['url']} (pid {status['pid']}); UI: {status['url']}")
    out.print(f"Use it from other shells with: export PREFECT_API_URL={status['api_url']}")


@server_app.command("stop")
def server_stop(port: Annotated[int | None, typer.Option()] = None) -> None:
    """Stop the local Prefect server started by eightflow."""
    from eightflow.local_server import LocalServer

    stopped = LocalServer(port=port).stop()
    out.print("Prefect server stopped." if stopped else "No eightflow-started server was running.")


@server_app.command("status")
def server_status(port: Annotated[int | None, typer.Option()] = None) -> None:
    """Say whether the local Prefect server is running, and where."""
    from eightflow.local_server import LocalServer

    status = LocalServer(port=port).status()
    out.print(json.dumps(status, indent=2))
    raise typer.Exit(0 if status["running"] else 1)


if __name__ == "__main__":
    app()
