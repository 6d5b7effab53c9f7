"""``eightflow stack up|down|status``, registered through the ``eightflow.cli`` entry point.

The engine's CLI never imports the application; this package adds its commands to it.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from eightflow.cli.console import fail, out

stack_app = typer.Typer(
    no_args_is_help=True, help="Server, work pool, deployments and workers, in one command."
)


def register(app: typer.Typer) -> None:
    """Add ``stack`` to the ``eightflow`` app."""
    app.add_typer(stack_app, name="stack")


@stack_app.command("up")
def stack_up(
    port: Annotated[int | None, typer.Option(help="Server port (default 4200).")] = None,
    workers: Annotated[int, typer.Option(help="Process workers to start.")] = 1,
    postgres: Annotated[
        str | None,
        typer.Option(help="postgresql+asyncpg://user:pass@127.0.0.1:5432/db instead of SQLite."),
    ] = None,
    no_deploy: Annotated[bool, typer.Option("--no-deploy", help="Skip prefect deploy.")] = False,
) -> None:
    """Start the local stack on 127.0.0.1 and print the UI URL."""
    from eightflow_app.deployments.stack import up

    try:
        state = up(
            port=port,
            workers=workers,
            postgres=postgres,
            deploy=not no_deploy,
            log=lambda text: out.print(f"[dim]{text}[/dim]"),
        )
    except RuntimeError as exc:
        fail(str(exc))
        return
    out.print(f"UI: {state['url']}   API: export PREFECT_API_URL={state['api_url']}")
    out.print(
        "UI passwords: the operator's is in EIGHTFLOW_HOME/prefect-auth (admin); give the "
        "people who use the UI EIGHTFLOW_HOME/runner-auth (runs, forms, reviews; no admin)"
    )


@stack_app.command("down")
def stack_down() -> None:
    """Stop the workers, the server and the front door that `stack up` started."""
    from eightflow_app.deployments.stack import down

    try:
        down(log=out.print)
    except RuntimeError as exc:
        fail(str(exc))


@stack_app.command("status")
def stack_status() -> None:
    """What the stack has running."""
    from eightflow_app.deployments.stack import status

    state = status()
    out.print(json.dumps(state, indent=2))
    raise typer.Exit(0 if state.get("running") else 1)
