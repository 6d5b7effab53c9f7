"""The ``eightflow`` command line, run in-process with Typer's CliRunner."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from eightflow.cli.main import app, register_plugins
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SAMPLE = str(REPO / "examples" / "sample.md")
LEAVES = ["summarization", "topic_extraction", "sentiment", "entities", "compilation"]


@pytest.fixture
def runner(home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # No local server for this private home: connect() must fall back to the API the test
    # session already configured, never start or adopt one. A wide terminal keeps rich
    # from wrapping table cells.
    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return CliRunner()


@pytest.mark.prefect
def test_run_json_is_json_alone(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(app, ["run", "document_analysis", SAMPLE, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # stdout holds the JSON and nothing else
    assert data["status"] == "completed"
    assert data["workflow"] == "document_analysis"
    assert {"summary", "topics", "sentiment", "entities"} <= set(data["outputs"])
    assert "Kilmory Bay" in data["outputs"]["summary"]
    assert data["outputs"]["sentiment"]["label"] in {"positive", "negative", "neutral"}
    assert isinstance(data["outputs"]["entities"]["entities"], list)
    assert [step["name"] for step in data["steps"]] == LEAVES
    assert all(step["status"] == "completed" for step in data["steps"])
    assert isinstance(data["run_id"], str) and len(data["run_id"]) == 16
    assert data["tokens"]["total"] == data["tokens"]["input"] + data["tokens"]["output"] > 0
    # The connection note went to stderr, not into the JSON.
    assert "Prefect" in result.stderr
    # The fresh home got the response cache.
    assert (home / "cache.sqlite").exists()


@pytest.mark.prefect
def test_second_run_is_served_from_the_cache(runner: CliRunner) -> None:
    first = runner.invoke(app, ["run", "document_analysis", SAMPLE, "--json"])
    second = runner.invoke(app, ["run", "document_analysis", SAMPLE, "--json"])
    assert first.exit_code == second.exit_code == 0
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert one["model_calls"] == 4 and two["model_calls"] == 0
    assert one["outputs"] == two["outputs"]
    assert all(call["cache_hit"] for step in two["steps"] for call in step["calls"])
    fresh = runner.invoke(app, ["run", "document_analysis", SAMPLE, "--json", "--refresh"])
    assert json.loads(fresh.stdout)["model_calls"] == 4


@pytest.mark.prefect
def test_run_plain_output(runner: CliRunner) -> None:
    result = runner.invoke(app, ["run", "document_analysis", SAMPLE])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "document_analysis run" in out and "completed" in out
    assert "summary" in out and "Kilmory Bay" in out
    assert "Steps" in out
    for name in LEAVES:
        assert name in out
    assert "total:" in out and "model calls" in out


def test_workflows_lists_document_analysis(runner: CliRunner) -> None:
    result = runner.invoke(app, ["workflows"])
    assert result.exit_code == 0
    assert "document_analysis" in result.stdout
    assert "eightflow_app.flows.document_analysis:DocumentAnalysisWorkflow" in result.stdout


def test_show_prints_text_and_mermaid(runner: CliRunner) -> None:
    result = runner.invoke(app, ["show", "document_analysis"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("document_analysis (version ")
    assert "- parallel_analysis (parallel)" in out
    assert "- compilation <- topic_extraction, parallel_analysis" in out
    assert "flowchart TD" in out and "summarization --> topic_extraction" in out
    mermaid_only = runner.invoke(app, ["show", "document_analysis", "--mermaid"])
    assert mermaid_only.stdout.startswith("flowchart TD")


def test_show_prints_the_version_runs_use(runner: CliRunner) -> None:
    from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow

    result = runner.invoke(app, ["show", "document_analysis"])
    assert f"(version {DocumentAnalysisWorkflow().version})" in result.stdout


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["run", "nope", "x.txt"], "unknown workflow 'nope'"),
        (["show", "nope"], "unknown workflow 'nope'"),
    ],
)
def test_unknown_workflow(runner: CliRunner, args: list[str], phrase: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert phrase in result.stderr and "document_analysis" in result.stderr  # lists the known
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("name", ["missing.txt", "missing.md"])
def test_missing_file(runner: CliRunner, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    result = runner.invoke(app, ["run", "document_analysis", str(path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), "crashed with a traceback"
    assert name in result.stderr
    assert "Traceback" not in result.output


def test_unsupported_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_text("hello")
    result = runner.invoke(app, ["run", "document_analysis", str(path)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "data.xyz" in result.stderr


def test_no_arguments_shows_help(runner: CliRunner) -> None:
    result = runner.invoke(app, [])
    assert "run" in result.output and "workflows" in result.output and "show" in result.output


@pytest.mark.parametrize(
    ("model", "named"),
    [("anthropic/claude-haiku-4-5", "anthropic/claude-haiku-4-5"), ("gemini/gemini-pro", "gemini")],
)
def test_analyze_batch_api_refuses_a_provider_without_batches(
    runner: CliRunner, tmp_path: Path, model: str, named: str
) -> None:
    result = runner.invoke(app, ["analyze", str(tmp_path), "--mode", "batch-api", "--model", model])
    assert result.exit_code == 2
    assert named in result.output and "--mode online" in result.output


def _declared_cli_plugins() -> list[importlib.metadata.EntryPoint]:
    """The ``eightflow.cli`` entry points pyproject.toml declares (installed or not)."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    return [
        importlib.metadata.EntryPoint(name=name, value=value, group="eightflow.cli")
        for name, value in declared["eightflow.cli"].items()
    ]


def test_stack_commands_come_from_the_app_package_through_an_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine's CLI imports no deployments/: ``stack`` arrives as a plug-in."""
    target = typer.Typer()
    target.command("noop")(lambda: None)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: _declared_cli_plugins())
    register_plugins(target)
    result = CliRunner().invoke(target, ["stack", "--help"])
    assert result.exit_code == 0, result.output
    assert {"up", "down", "status"} <= set(result.output.split())


def test_a_broken_plugin_warns_and_the_cli_still_works(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = importlib.metadata.EntryPoint(
        name="broken", value="no_such_module_here:register", group="eightflow.cli"
    )
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [broken])
    target = typer.Typer()
    register_plugins(target)
    assert "CLI plug-in 'broken' not loaded" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value"), [("budget_switch_at", 2.0), ("concurrency", 0)])
def test_an_invalid_option_is_refused_without_prefect_dumping_every_parameter(
    home: Path, capfd: pytest.CaptureFixture[str], option: str, value: float
) -> None:
    from prefect.exceptions import ParameterTypeError

    from eightflow.batch.params import BatchParams
    from eightflow.cli.main import validate_quietly
    from eightflow.registry import load_flow

    parameters = BatchParams(folder=str(home), out=str(home.parent / "out")).flow_parameters()
    with pytest.raises(ParameterTypeError, match=option):
        validate_quietly(load_flow("batch_documents"), {**parameters, option: value})
    said = capfd.readouterr()
    assert "Parameters:" not in said.out + said.err


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("completed", {"review_queue_run": "q1"}),
        ("failed", {"review_queue_run": "q1"}),
        ("plain", {}),  # the flow returned no brief
        ("broken", {}),  # no result to read
    ],
)
def test_the_batch_cli_takes_what_only_the_flow_knows(state: str, expected: dict) -> None:
    """The queue run a batch started reaches `eightflow analyze`'s output: the summary the
    CLI listens to does not have it, the flow's returned brief does."""
    from prefect.states import Completed, Failed

    from eightflow.cli.main import _from_flow

    brief = {"review_queue_run": "q1", "next_poll_flow_run": None, "success": False}

    class Broken:
        def result(self, raise_on_failure: bool = True) -> object:
            raise RuntimeError("no result persisted")

    states = {
        "completed": Completed(data=brief),
        "failed": Failed(data=brief),
        "plain": Completed(data="done"),
        "broken": Broken(),
    }
    assert _from_flow(states[state], "review_queue_run", "next_poll_flow_run") == expected


@pytest.mark.parametrize(
    ("points_at_ours", "by_path", "kept"),
    [(True, True, False), (False, True, True), (True, False, False), (False, False, True)],
    ids=[
        "the profile pointed at this server: restored",
        "another API: left alone, Prefect not imported",
        "found under PREFECT_HOME: restored",
        "under PREFECT_HOME, another API: left alone, Prefect not imported",
    ],
)
def test_server_stop_takes_back_what_server_start_put_in_the_profile(
    tmp_path: Path, points_at_ours: bool, by_path: bool, kept: bool
) -> None:
    """``server start`` points the active Prefect profile at the server; ``server stop`` must
    take that back, or every later ``prefect`` command and every script that imports Prefect
    first goes to a closed port. With nothing to take back it does not import Prefect (about
    a second). (In subprocesses: this process's Prefect settings are fixed.)"""
    port = free_port()
    ours = f"http://127.0.0.1:{port}/api"
    url = ours if points_at_ours else "http://127.0.0.1:1/api"
    profiles = tmp_path / "prefect" / "profiles.toml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "EIGHTFLOW_"))}
    env.update({"PREFECT_HOME": str(tmp_path / "prefect"),
                "EIGHTFLOW_HOME": str(tmp_path / "home"), "EIGHTFLOW_CONFIGURE_PROFILE": "1",
                "LITELLM_LOCAL_MODEL_COST_MAP": "True"})  # fmt: skip
    if by_path:
        env["PREFECT_PROFILES_PATH"] = str(profiles)
    # From a folder of its own: a settings file where the tests run (a .env) would be read.
    (tmp_path / "cwd").mkdir()
    run = {"env": env, "capture_output": True, "text": True, "timeout": 120, "check": False,
           "cwd": tmp_path / "cwd"}  # fmt: skip
    code = f"from eightflow.server.auth import configure_profile; configure_profile({url!r})"
    done = subprocess.run([sys.executable, "-c", code], **run)  # type: ignore[call-overload]
    assert done.returncode == 0 and url in profiles.read_text(), done.stderr
    stop = [sys.executable, "-X", "importtime", "-m", "eightflow.cli.main", "server", "stop",
            "--port", str(port)]  # fmt: skip
    done = subprocess.run(stop, **run)  # type: ignore[call-overload]
    assert done.returncode == 0, done.stderr
    assert "No eightflow-started server was running." in done.stdout
    assert (url in profiles.read_text()) is kept
    imported_prefect = re.search(r"\|\s+prefect$", done.stderr, re.MULTILINE) is not None
    assert imported_prefect is not kept
