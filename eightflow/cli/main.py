"""eightflow: declarative, observable LLM workflows on Prefect.

Run workflows on a document or a folder, review outputs, and report on past runs.
"""

# Heavy imports (Prefect, litellm, the workflows) happen inside commands, after the Prefect
# API has been chosen, so `eightflow --help` and `eightflow workflows` stay quick.

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from eightflow.batch.params import CLI_EXCLUDES, FLOW_EXCLUDES, FORM_ORDER, BatchParams
from eightflow.cli.console import err, out
from eightflow.cli.console import fail as _fail
from eightflow.cli.options import cli_options
from eightflow.errors import WorkflowError
from eightflow.runtime.gc_pause import freeze_at_exit
from eightflow.safety.inert import console_text
from eightflow.settings import user_path

# A command's process ends right after it: the interpreter's last collections over the
# imported heap took 1.2-2 s of an `eightflow run` (see eightflow.runtime.gc_pause).
freeze_at_exit()

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
server_app = typer.Typer(no_args_is_help=True, help="A local Prefect server on 127.0.0.1.")
app.add_typer(server_app, name="server")

ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", help="litellm model string, e.g. openai/gpt-4o-mini."),
]


def allow_operator_choices(model: str | None, api_base: str | None) -> None:
    """A local CLI user's own --model and --api-base become this process's operator
    settings (a Run form never gets this)."""
    import os

    if model:
        allowed = os.environ.get("EIGHTFLOW_ALLOWED_MODELS")
        if allowed:
            os.environ["EIGHTFLOW_ALLOWED_MODELS"] = f"{allowed},{model}"
        else:
            from eightflow.settings import allowed_models

            os.environ["EIGHTFLOW_ALLOWED_MODELS"] = ",".join([*allowed_models(), model])
    if api_base:
        os.environ["EIGHTFLOW_API_BASE"] = api_base


ReviewBelowOption = Annotated[
    float | None,
    typer.Option(
        "--review-below",
        min=0.0,
        max=1.0,
        help="Ask a person to review outputs whose confidence is below this "
        "(the workflow's review rules; see `eightflow review list`).",
    ),
]


@app.command("run")
def run_command(
    workflow: Annotated[str, typer.Argument(help="Workflow name, see `eightflow workflows`.")],
    path: Annotated[Path, typer.Argument(help="The document (.txt, .md, .html, .pdf, .docx).")],
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON only.")] = False,
    refresh: Annotated[bool, typer.Option(help="Ignore cached model answers.")] = False,
    review_below: ReviewBelowOption = None,
) -> None:
    """Run a workflow on one file and print its result and step table."""
    from eightflow.cli.console import connect

    connection = connect()
    (err if as_json else out).print(f"[dim]{connection.message}[/dim]")
    from eightflow.registry import load_workflow
    from eightflow.store.cache import ResponseCache

    try:
        cls = load_workflow(workflow)
        inputs = _load_while_importing(cls, path)
    except WorkflowError as exc:
        _fail(str(exc))
        return
    cache = None if refresh else ResponseCache.default()
    wf = cls(model=model, cache=cache, review_below=review_below)
    result = asyncio.run(wf.execute(raise_on_failure=False, **inputs))
    from eightflow.review.people import decisions_of_run

    decisions = decisions_of_run(result.run_id)  # who decided what, if people were asked
    wall_s = (_utc_now() - result.started).total_seconds() if decisions else None
    if as_json:
        data = result.to_dict() | {"decisions": decisions, "wall_s": wall_s}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        from eightflow.cli.render import print_result

        print_result(result, out, decisions=decisions, wall_s=wall_s)
        if result.ui_url:
            out.print(f"\nPrefect UI: {result.ui_url}")
    raise typer.Exit(0 if result.ok else 1)


def validate_quietly(flow: Any, parameters: dict[str, Any]) -> None:
    """``flow.validate_parameters``, without Prefect's ERROR line that dumps every parameter
    (paths included) above the one line that names the bad option."""
    import logging

    flows_log = logging.getLogger("prefect.flows")
    disabled, flows_log.disabled = flows_log.disabled, True
    try:
        flow.validate_parameters(parameters)
    finally:
        flows_log.disabled = disabled


def _utc_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _load_while_importing(cls: Any, path: Path) -> dict[str, Any]:
    """The run's inputs, read through the workflow's loader (the sandbox, whose pool takes
    ~2 s to start) while this thread imports the model gateway (litellm, seconds more)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    # One file: one loader process, not the batch's two (each imports the parsers, ~2 s of
    # CPU that would compete with the import below on a small machine).
    os.environ.setdefault("EIGHTFLOW_LOADER_WORKERS", "1")
    with ThreadPoolExecutor(1, thread_name_prefix="load") as pool:
        loading = pool.submit(cls.inputs_from_path, str(path))
        import eightflow.gateway.call  # noqa: F401  (litellm: the run imports it next anyway)

        return dict(loading.result())


@app.command("analyze")
@cli_options(
    BatchParams,
    exclude=CLI_EXCLUDES,
    arguments=("folder",),
    flags={"model": ("--model", "-m")},
    first=FORM_ORDER,
)
def analyze_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON only.")
    ] = False,
    **options: Any,
) -> None:
    """Run a workflow over every document in a folder; write results and report.

    The options are the batch-documents flow's parameters (eightflow.batch.params), plus
    --api-base, the local operator's endpoint.
    """
    folder, model, api_base = Path(options["folder"]), options["model"], options["api_base"]
    if not folder.is_dir():
        _fail(f"{folder}: not a folder")
    if options["mode"] == "batch-api":
        from eightflow.batch.batch_api import refusal

        reason = refusal(model)
        if reason:
            _fail(reason)
    import os

    from eightflow.cli.console import connect

    # An INFO line per task run would drown the progress bar; the batch's own lines
    # (start, every 10%, end) still reach the UI at INFO (tasks/batch_log.py).
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    connection = connect()
    (err if as_json else out).print(f"[dim]{connection.message}[/dim]")
    from eightflow.batch import add_progress_listener, remove_progress_listener
    from eightflow.registry import load_flow

    batch_flow = load_flow("batch_documents")
    # The local user is the operator: their --model and --api-base are allowed for this
    # process, as EIGHTFLOW_ALLOWED_MODELS / EIGHTFLOW_API_BASE would be on a worker.
    allow_operator_choices(model, api_base)
    from eightflow.safety.form_types import to_form

    chosen = {name: value for name, value in options.items() if name not in FLOW_EXCLUDES}
    parameters = to_form(BatchParams, chosen)  # the flow's form types: no None, empty values
    from prefect.exceptions import ParameterTypeError

    try:
        validate_quietly(batch_flow, parameters)
    except ParameterTypeError as exc:
        _fail(f"invalid option: {str(exc).split(chr(10), 1)[-1].strip(' -')}")
        return
    holder: dict[str, Any] = {}
    from eightflow.cli.progress import BatchProgress

    with BatchProgress(err if as_json else out, enabled=not as_json) as progress:

        def listen(summary: Any, outcome: Any) -> None:
            holder["summary"] = summary
            progress.update(summary, outcome)

        add_progress_listener(listen)
        try:
            state = asyncio.run(batch_flow(**parameters, return_state=True))
        finally:
            remove_progress_listener(listen)
    summary = holder.get("summary")
    if summary is None:
        _fail(f"the batch did not run: {state.message}")
        return
    out_dir = user_path(options["out"]).resolve()
    brief = {**summary.brief(), "out": str(out_dir), "flow_state": state.name}
    brief.update(_from_flow(state, "review_queue_run", "next_poll_flow_run"))
    from eightflow.server.ui_links import flow_run_url

    brief["ui_url"] = flow_run_url(summary.flow_run_id)
    if as_json:
        sys.stdout.write(json.dumps(brief, indent=2) + "\n")
    else:
        from eightflow.cli.progress import print_batch

        print_batch(brief, out)
    raise typer.Exit(0 if brief["success"] else 1)


def _from_flow(state: Any, *keys: str) -> dict[str, Any]:
    """What only the flow knows (the review queue run it started, the next poll): read
    from its returned brief; nothing when it returned none."""
    try:
        returned = state.result(raise_on_failure=False)
    except Exception:  # no stored result: the summary still holds what the CLI prints
        return {}
    if not isinstance(returned, dict):
        return {}
    return {key: returned[key] for key in keys if returned.get(key)}


@app.command("replay")
def replay_command(
    run_id: Annotated[str, typer.Argument(help="A run id from the ledger (a prefix will do).")],
    live: Annotated[list[str] | None, typer.Option(help="Run this step for real.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON only.")] = False,
) -> None:
    """Re-run a recorded run with model answers served from the ledger (free, offline)."""
    from eightflow.cli.console import connect

    connection = connect()
    (err if as_json else out).print(f"[dim]{connection.message}[/dim]")
    from eightflow.replay import replay_run

    try:
        result, source = asyncio.run(replay_run(run_id, live=live or []))
    except WorkflowError as exc:
        _fail(str(exc))
        return
    if as_json:
        data = result.to_dict()
        data["replay"] = {
            "of": run_id,
            "served": source.served,
            "misses": source.misses,
            "live": sorted(source.live),
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        from eightflow.cli.render import print_result

        print_result(result, out)
        out.print(
            f"\nreplayed {source.served} answers from the ledger; "
            f"{result.model_calls} real model calls"
        )
        for miss in source.misses:
            out.print(f"[yellow]miss[/yellow] {console_text(miss)}")
    raise typer.Exit(0 if result.ok and not source.misses else 1)


@app.command("workflows")
def workflows_command() -> None:
    """List the registered workflows."""
    from eightflow.registry import _targets

    for name, target in sorted(_targets().items()):
        out.print(f"{name}  [dim]{target}[/dim]")


@app.command("show")
def show_command(
    workflow: Annotated[str, typer.Argument(help="Workflow name, see `eightflow workflows`.")],
    mermaid_only: Annotated[bool, typer.Option("--mermaid", help="Print only Mermaid.")] = False,
) -> None:
    """Print a workflow's DAG as text and as Mermaid."""
    from eightflow.registry import load_workflow

    try:
        instance = load_workflow(workflow)()
        definition = instance.definition
    except WorkflowError as exc:
        _fail(str(exc))
        return
    if not mermaid_only:
        out.print(definition.to_text(instance.version), markup=False)
        out.print()
    out.print(definition.to_mermaid(), markup=False)


@server_app.command("start")
def server_start(
    port: Annotated[int | None, typer.Option(help="Port (default 4200).")] = None,
) -> None:
    """Start the local Prefect server (SQLite under EIGHTFLOW_HOME)."""
    from eightflow.server.local import LocalServer

    server = LocalServer(port=port)
    try:
        status = server.start()
    except RuntimeError as exc:
        _fail(str(exc))
        return
    from eightflow.server.auth import AUTH_FILE, configure_profile
    from eightflow.server.ui_links import ui_base_url

    profile = configure_profile(status["api_url"])
    out.print(
        f"Prefect server running at {status['url']} (pid {status['pid']}); "
        f"UI: {ui_base_url(status['url'])}"
    )
    home = server.home
    out.print(
        f"It asks for the auth string in {home / AUTH_FILE} (user:password; the UI's password "
        "is the whole string)."
        + (f" The Prefect profile '{profile}' points at it." if profile else ""),
        markup=False,
    )


@server_app.command("stop")
def server_stop(
    port: Annotated[int | None, typer.Option(help="Port (default 4200).")] = None,
) -> None:
    """Stop the local Prefect server started by eightflow."""
    from eightflow.server.auth import unconfigure_profile
    from eightflow.server.local import LocalServer

    server = LocalServer(port=port)
    stopped = server.stop()
    # The profile ``server start`` pointed at this server would send every later `prefect`
    # command, and every script that imports Prefect first, to a closed port.
    unconfigure_profile(server.api_url)
    out.print("Prefect server stopped." if stopped else "No eightflow-started server was running.")


@server_app.command("status")
def server_status(
    port: Annotated[int | None, typer.Option(help="Port (default 4200).")] = None,
) -> None:
    """Say whether the local Prefect server is running, and where."""
    from eightflow.server.local import LocalServer

    status = LocalServer(port=port).status()
    out.print(json.dumps(status, indent=2))
    raise typer.Exit(0 if status["running"] else 1)


# report and export (report_cmd.py), eval (eval_cmd.py); heavy imports stay in the commands.
from eightflow.cli.eval_cmd import register as _register_eval  # noqa: E402
from eightflow.cli.report_cmd import register as _register_report  # noqa: E402

_register_report(app)
from eightflow.cli.batches_cmd import register as _register_batches  # noqa: E402

_register_batches(app)
from eightflow.cli.review_cmd import register as _register_review  # noqa: E402

_register_review(app)

from eightflow.cli.ledger_cmd import register as _register_ledger  # noqa: E402

_register_ledger(app)
_register_eval(app)


def register_plugins(target: typer.Typer) -> None:
    """Commands other packages add through the ``eightflow.cli`` entry point group.

    Each entry point names ``register(app)``. The engine never imports the application
    (``eightflow stack`` comes from the app package's deployments this way); a plug-in that
    fails to import is reported, not fatal, so the rest of the CLI still works.
    """
    from importlib.metadata import entry_points

    for entry in entry_points(group="eightflow.cli"):
        try:
            entry.load()(target)
        except Exception as exc:  # a broken plug-in must not take the CLI down
            err.print(f"[yellow]warning: CLI plug-in '{entry.name}' not loaded: {exc}[/yellow]")


register_plugins(app)


if __name__ == "__main__":
    app()
