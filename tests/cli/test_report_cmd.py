"""``eightflow report``, ``export`` and ``eval`` through Typer's CliRunner."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from eightflow.cli.main import app
from eightflow.runtime.records import ModelCall, StepRecord, TokenUsage, WorkflowResult, total_cost
from eightflow.store.ledger import default_ledger

REPO = Path(__file__).resolve().parents[2]
SENTIMENT = str(REPO / "examples" / "eval" / "sentiment.csv")

REPORT_KEYS = {
    "name",
    "runs",
    "documents",
    "success_rate",
    "failure_reasons",
    "cost_usd",
    "cost_per_run_usd",
    "cost_per_document_usd",
    "cost_per_successful_document_usd",
    "cache_hit_rate",
    "grounded_rate",
    "tokens_in",
    "tokens_out",
    "steps",
    "groups",
}


def _record(
    run_id: str,
    status: str,
    hours_ago: float,
    durations: tuple[float, float],
    grounded: bool | None = None,
) -> None:
    started = datetime.now(UTC) - timedelta(hours=hours_ago)
    steps = []
    for name, duration in zip(("summarize", "classify"), durations, strict=True):
        step = StepRecord(name=name, status="completed", started=started, duration_ms=duration)
        step.add_call(
            ModelCall(
                model="openai/gpt-4o-mini",
                provider="openai",
                prompt_id=name,
                prompt_version=1,
                tokens_in=100,
                tokens_out=20,
                cost_usd=0.001,
                latency_ms=duration,
                started=started,
                cache_hit=run_id == "cached",
            )
        )
        steps.append(step)
    if grounded is not None:  # as the pipeline's grounding check notes the step
        steps[0].notes["grounding"] = {"grounded": grounded, "checked": 3, "reasons": []}
    if status != "completed":
        steps[-1].status = "failed"
        steps[-1].error_type = "ModelTemporaryError"
    default_ledger().record_run(
        WorkflowResult(
            run_id=run_id,
            workflow="notes",
            version="abc123",
            status=status,  # type: ignore[arg-type]
            steps=steps,
            cost_usd=total_cost(steps),
            tokens=TokenUsage(input=200, output=40),
            model_calls=2,
            started=started,
            finished=started + timedelta(seconds=1),
            duration_ms=sum(durations),
            error_type="ModelTemporaryError" if status != "completed" else None,
        ),
        document_id=f"{run_id}.txt",
    )


@pytest.fixture
def runner(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.fixture
def ledger_runs(home: Path) -> None:
    _record("r1", "completed", 1, (100.0, 200.0), grounded=True)
    _record("r2", "completed", 2, (300.0, 400.0), grounded=False)
    _record("cached", "completed", 3, (10.0, 20.0))
    _record("r4", "failed", 30, (500.0, 50.0))


def test_report_json_is_the_dict_alone(
    runner: CliRunner, ledger_runs: None, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["report", "--format", "json", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {
        "workflows",
        "since",
        "reviews",
        "evals",
        "decisions",
        "grounding_failures",
    }
    (wf,) = data["workflows"]
    assert set(wf) == REPORT_KEYS
    assert (wf["name"], wf["runs"], wf["documents"]) == ("notes", 4, 4)
    assert wf["success_rate"] == 0.75
    assert wf["failure_reasons"] == {"ModelTemporaryError": 1}
    assert wf["cache_hit_rate"] == 0.25
    assert wf["cost_usd"] == pytest.approx(0.008)
    assert wf["cost_per_successful_document_usd"] == pytest.approx(0.008 / 3)
    assert [s["name"] for s in wf["steps"]] == ["summarize", "classify"]
    assert wf["steps"][1]["failures"] == 1
    # Plots are written in every format; the note about them went to stderr.
    assert (tmp_path / "r" / "cost_per_day.png").stat().st_size > 1000
    assert (tmp_path / "r" / "step_latency.png").stat().st_size > 1000
    assert "cost_per_day.png" in result.stderr


def test_report_since_and_by(runner: CliRunner, ledger_runs: None) -> None:
    result = runner.invoke(app, ["report", "-f", "json", "--since", "24h", "--by", "prompt"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["since"] is not None
    (wf,) = data["workflows"]
    assert wf["runs"] == 3  # the failed run is 30 hours old
    assert {g["key"] for g in wf["groups"]} == {"summarize@v1", "classify@v1"}
    assert Path("eightflow-report/step_latency.png").exists()  # the default --out


@pytest.mark.parametrize(
    ("by", "rates"),
    [
        ("prompt", {"summarize@v1": 0.5, "classify@v1": None}),
        ("model", {"openai/gpt-4o-mini": 0.5}),
    ],
)
def test_report_shows_the_grounded_rate(
    runner: CliRunner, ledger_runs: None, by: str, rates: dict[str, float | None]
) -> None:
    result = runner.invoke(app, ["report", "-f", "json", "--by", by])
    assert result.exit_code == 0, result.output
    (wf,) = json.loads(result.stdout)["workflows"]
    assert {g["key"]: g["grounded_rate"] for g in wf["groups"]} == rates
    assert wf["grounded_rate"] == 0.5
    table = runner.invoke(app, ["report", "--by", by])
    assert table.exit_code == 0, table.output
    assert "grounded" in table.stdout and "50.0%" in table.stdout


def test_report_markdown(runner: CliRunner, ledger_runs: None, tmp_path: Path) -> None:
    out_dir = tmp_path / "md"
    result = runner.invoke(
        app, ["report", "--format", "markdown", "--by", "version", "--out", str(out_dir)]
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("# eightflow report")
    assert "## notes" in text
    assert "### Steps" in text
    assert (
        "| step | runs | p50 ms | p95 ms | p99 ms | tokens in | tokens out | cost | failures |"
        in text
    )
    assert "| summarize | 4 |" in text
    assert "### By version" in text and "| abc123 | run | 4 |" in text
    assert "### Failure reasons" in text and "| ModelTemporaryError | 1 |" in text
    assert f"![Cost per day]({out_dir / 'cost_per_day.png'})" in text
    assert f"![Step latency (p50/p95)]({out_dir / 'step_latency.png'})" in text
    assert (out_dir / "cost_per_day.png").exists() and (out_dir / "step_latency.png").exists()


def test_report_table(runner: CliRunner, ledger_runs: None) -> None:
    result = runner.invoke(app, ["report", "--workflow", "notes", "--by", "model"])
    assert result.exit_code == 0, result.output
    for word in ("notes", "Steps", "summarize", "classify", "By model", "openai/gpt-4o-mini"):
        assert word in result.stdout
    assert "Failure reasons" in result.stdout and "75.0%" in result.stdout


def test_report_on_an_empty_ledger(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "-f", "json", "--out", str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    empty = {"workflows": [], "since": None, "reviews": [], "evals": [], "decisions": []}
    empty["grounding_failures"] = []
    assert json.loads(result.stdout) == empty
    assert not (tmp_path / "e").exists()  # no rows, no plots


@pytest.mark.parametrize(
    "args",
    [["--since", "yesterday"], ["--by", "team"], ["--format", "pdf"]],
)
def test_report_refuses_bad_options(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 2


@pytest.mark.prefect
def test_report_publish_creates_artifacts(
    runner: CliRunner, ledger_runs: None, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["report", "--publish", "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "Published artifacts" in result.stderr
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def latest(key: str):  # type: ignore[no-untyped-def]
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
            )
            artifact = max(found, key=lambda a: a.created)
            flow_run = await client.read_flow_run(artifact.flow_run_id)
            return artifact, flow_run

    markdown, flow_run = asyncio.run(latest("eightflow-report"))
    assert markdown.type == "markdown"
    assert "### Steps" in markdown.data
    assert (tmp_path / "p" / "step_latency.png").resolve().as_uri() in markdown.data
    assert flow_run.name and flow_run.flow_id
    table, table_run = asyncio.run(latest("eightflow-report-steps"))
    assert table.type == "table"
    assert table_run.id == flow_run.id  # both belong to the one publish-report run
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert {r["step"] for r in rows} == {"summarize", "classify"}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export(runner: CliRunner, ledger_runs: None, tmp_path: Path, fmt: str) -> None:
    out_dir = tmp_path / "export"
    result = runner.invoke(app, ["export", "--format", fmt, "--out", str(out_dir)])
    assert result.exit_code == 0, result.output
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    runs = read(out_dir / f"runs.{fmt}")
    steps = read(out_dir / f"steps.{fmt}")
    calls = read(out_dir / f"calls.{fmt}")
    evals = read(out_dir / f"evals.{fmt}")
    assert sorted(runs["run_id"]) == ["cached", "r1", "r2", "r4"]
    assert len(steps) == 8 and len(calls) == 8
    assert calls["cost_usd"].sum() == pytest.approx(0.008)
    assert len(evals) == 0 and "metric" in evals.columns  # empty, with its columns
    for table in ("runs", "steps", "calls", "evals"):
        assert str(out_dir / f"{table}.{fmt}") in result.stdout


@pytest.mark.parametrize("document", ['=HYPERLINK("http://x.example")', "@SUM(A1)", "+1"])
def test_export_csv_cells_are_inert(runner: CliRunner, tmp_path: Path, document: str) -> None:
    _record("r1", "completed", 1, (100.0, 200.0))
    default_ledger().write("UPDATE runs SET document_id = ?", (document,))
    out_dir = tmp_path / "export"
    result = runner.invoke(app, ["export", "--format", "csv", "--out", str(out_dir)])
    assert result.exit_code == 0, result.output
    [cell] = pd.read_csv(out_dir / "runs.csv")["document_id"]
    assert cell == "'" + document


def test_eval_prints_accuracy(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", "document_analysis", SENTIMENT])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.stdout
    assert "accuracy: 0.8333" in result.stdout
    assert "Confusion" in result.stdout and "sentiment@v1" in result.stdout
    rows = default_ledger().query("SELECT metric, value FROM evals WHERE metric = 'accuracy'")
    assert rows and rows[0]["value"] == pytest.approx(35 / 42)


def test_eval_json(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["eval", "document_analysis", SENTIMENT, "--json", "--prompt-version", "1"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["task"], data["prompt"], data["metric"]) == (
        "sentiment",
        "sentiment@v1",
        "accuracy",
    )
    assert data["value"] == pytest.approx(35 / 42)
    assert len(data["predictions"]) == 42


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", SENTIMENT], "unknown workflow"),
        (["document_analysis", "missing.csv"], "no such file"),
        (["document_analysis", SENTIMENT, "--prompt-version", "7"], "no version"),
    ],
)
def test_eval_errors(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["eval", *args])
    assert result.exit_code == 2
    assert message in result.stderr
