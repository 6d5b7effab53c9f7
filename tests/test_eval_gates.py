"""``eightflow eval`` as a gate (--min-score, --baseline) and a comparison (--compare)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eightflow.cli.main import app

REPO = Path(__file__).resolve().parents[1]
SENTIMENT = REPO / "examples" / "eval" / "sentiment.csv"
EMBEDDED_ACCURACY = 35 / 42  # README's Evaluation table


def always_positive(request: Any) -> str:
    return json.dumps({"label": "positive", "score": 0.5, "confidence": 0.9})


@pytest.fixture
def runner(home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    from eightflow.gateway import register_provider

    register_provider("always", always_positive)
    monkeypatch.setenv("EIGHTFLOW_MODEL", "local/embedded")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def eval_json(runner: CliRunner, *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["eval", "document_analysis", str(SENTIMENT), "--json", *args])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(
    ("min_score", "code", "passed"), [(0.8, 0, True), (0.833, 0, True), (0.85, 1, False)]
)
def test_min_score_gate(runner: CliRunner, min_score: float, code: int, passed: bool) -> None:
    exit_code, data = eval_json(runner, "--min-score", str(min_score))
    assert data["value"] == pytest.approx(EMBEDDED_ACCURACY)
    assert exit_code == code
    [gate] = data["gates"]
    assert (gate["gate"], gate["passed"]) == ("min_score", passed)


@pytest.mark.parametrize(
    ("model", "tolerance", "code"),
    [("local/embedded", "0.02", 0), ("always/positive", "0.02", 1), ("always/positive", "0.6", 0)],
)
def test_baseline_gate_fails_on_a_drop(
    runner: CliRunner, model: str, tolerance: str, code: int
) -> None:
    _, base = eval_json(runner)
    exit_code, data = eval_json(
        runner, "--model", model, "--baseline", base["eval_id"][:8], "--tolerance", tolerance
    )
    assert exit_code == code
    [gate] = data["gates"]
    assert gate["passed"] is (code == 0)
    if model == "always/positive":  # 14 positives of 42: a drop of 0.5
        assert data["value"] == pytest.approx(14 / 42)
        assert "drop 0.5000" in gate["message"]
    plain = runner.invoke(
        app,
        ["eval", "document_analysis", str(SENTIMENT), "--model", model,
         "--baseline", base["eval_id"], "--tolerance", tolerance],
    )  # fmt: skip
    assert plain.exit_code == code
    assert ("FAIL" in plain.stdout) is (code == 1)


def test_unknown_baseline_is_an_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eval", "document_analysis", str(SENTIMENT), "--baseline", "nope"])
    assert result.exit_code == 2
    assert "no evaluation" in result.output


def test_compare_two_models_side_by_side(runner: CliRunner, home: Path) -> None:
    out = home / "cmp"
    args = ["--compare", "local/embedded", "always/positive", "--out", str(out)]
    exit_code, data = eval_json(runner, *args)
    assert exit_code == 0
    a, b = data["variants"]
    assert (a["model"], b["model"]) == ("local/embedded", "always/positive")
    assert a["metrics"]["accuracy"] == pytest.approx(EMBEDDED_ACCURACY)
    assert b["metrics"]["accuracy"] == pytest.approx(14 / 42)
    assert Path(data["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = runner.invoke(app, ["eval", "document_analysis", str(SENTIMENT), *args])
    assert "B - A" in table.stdout and "-0.5000" in table.stdout


def test_compare_prompt_versions_lands_in_report_by_prompt(
    runner: CliRunner, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = home / "prompts"
    shutil.copytree(REPO / "prompts", prompts)
    v1 = (prompts / "sentiment.v1.md").read_text()
    (prompts / "sentiment.v2.md").write_text(
        v1.replace("version: 1", "version: 2").replace("Rate the sentiment", "Judge the mood")
    )
    monkeypatch.setenv("EIGHTFLOW_PROMPTS_DIR", str(prompts))
    exit_code, data = eval_json(runner, "--compare", "sentiment@v1", "sentiment@v2")
    assert exit_code == 0
    assert [v["prompt"] for v in data["variants"]] == ["sentiment@v1", "sentiment@v2"]
    report = runner.invoke(app, ["report", "--by", "prompt", "--format", "json"])
    scores = {(e["prompt"], e["metric"]) for e in json.loads(report.stdout)["evals"]}
    assert scores == {("sentiment@v1", "accuracy"), ("sentiment@v2", "accuracy")}
    markdown = runner.invoke(app, ["report", "--by", "prompt", "--format", "markdown"])
    assert "## Evaluations" in markdown.stdout and "sentiment@v2" in markdown.stdout
