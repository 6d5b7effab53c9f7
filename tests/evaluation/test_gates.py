"""``eightflow eval`` as a gate (--min-score, --baseline) and a comparison (--compare),
the same on every kind of labelled set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eightflow.cli.main import app

REPO = Path(__file__).resolve().parents[2]
SENTIMENT = REPO / "examples" / "eval" / "sentiment.csv"
ENTITIES = REPO / "examples" / "eval" / "entities.csv"
REAL = REPO / "examples" / "eval" / "real"
EMBEDDED_ACCURACY = 35 / 42  # README's Evaluation table
#: A constant, degenerate answer to each prompt: it must lose every gate it can.
CONSTANT = {
    "sentiment": {"label": "positive", "score": 0.5, "confidence": 0.9},
    "entities": {"entities": []},
    "summarization": {"summary": "This document describes the software.", "key_points": []},
}


def always_positive(request: Any) -> str:
    return json.dumps(CONSTANT.get(request.prompt_id or "", CONSTANT["sentiment"]))


@pytest.fixture
def runner(home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    from eightflow.gateway import register_provider

    register_provider("always", always_positive)
    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")
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
    monkeypatch.chdir(home)  # the default --out (eightflow-report/) lands here, not in the checkout
    exit_code, data = eval_json(runner, "--compare", "sentiment@v1", "sentiment@v2")
    assert exit_code == 0
    assert [v["prompt"] for v in data["variants"]] == ["sentiment@v1", "sentiment@v2"]
    report = runner.invoke(app, ["report", "--by", "prompt", "--format", "json"])
    scores = {(e["prompt"], e["metric"]) for e in json.loads(report.stdout)["evals"]}
    assert scores == {("sentiment@v1", "accuracy"), ("sentiment@v2", "accuracy")}
    markdown = runner.invoke(app, ["report", "--by", "prompt", "--format", "markdown"])
    assert "## Evaluations" in markdown.stdout and "sentiment@v2" in markdown.stdout


@pytest.fixture(scope="module")
def tiny_real_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real documents copied from the shipped set, with their manifest rows."""
    folder = tmp_path_factory.mktemp("real") / "tiny"
    (folder / "docs").mkdir(parents=True)
    lines = (REAL / "manifest.csv").read_text().splitlines(keepends=True)
    keep = [line for line in lines[1:] if line.startswith(("wget-readme.txt", "jq-readme.md"))]
    for line in keep:
        name = line.split(",", 1)[0]
        shutil.copy(REAL / "docs" / name, folder / "docs" / name)
    (folder / "manifest.csv").write_text(lines[0] + "".join(keep))
    return folder


KINDS = ["sentiment", "entities", "real"]


def _dataset(kind: str, tiny: Path) -> str:
    return str({"sentiment": SENTIMENT, "entities": ENTITIES, "real": tiny}[kind])


@pytest.mark.parametrize(
    ("dataset", "min_score", "code", "failing"),
    [
        ("sentiment", 0.8, 0, []),
        ("sentiment", 0.85, 1, ["accuracy"]),
        ("entities", 0.9, 0, []),
        ("entities", 0.95, 1, ["f1"]),
        ("real", 0.0, 0, []),
        (
            "real",
            0.9999,
            1,
            [
                "sentiment_accuracy",
                "sentiment_recall_positive",
                "sentiment_recall_negative",
                "neutral_recall_technical_legal",
                "entity_precision",
                "entity_recall",
                "entity_prose_f1",
                "summary_key_terms",
            ],
        ),
    ],
)
def test_min_score_gate_on_every_kind(
    runner: CliRunner, dataset: str, min_score: float, code: int, failing: list[str]
) -> None:
    path = _dataset(dataset, REAL)  # the shipped real set: the gates judge its test split
    result = runner.invoke(app, ["eval", "document_analysis", path, "--min-score", str(min_score)])
    assert result.exit_code == code, result.output
    for metric in failing:
        assert f"min_score: FAIL {metric} " in result.stdout
        assert f" < {min_score} (" in result.stdout
    if failing:
        assert f"{len(failing)} of " in result.stdout and "gate checks failed" in result.stdout
    else:
        assert "FAIL" not in result.stdout and "min_score: pass" in result.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_a_constant_model_fails_the_baseline_of_every_kind(
    runner: CliRunner, kind: str, tiny_real_set: Path
) -> None:
    dataset = _dataset(kind, tiny_real_set)
    base = runner.invoke(app, ["eval", "document_analysis", dataset, "--json"])
    assert base.exit_code == 0, base.output
    eval_id = json.loads(base.stdout)["eval_id"]
    for model, code in (("local/embedded", 0), ("always/positive", 1)):
        args = ["eval", "document_analysis", dataset, "--model", model, "--baseline", eval_id]
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == code, result.output
        gates = json.loads(result.stdout)["gates"]
        assert gates and {g["gate"] for g in gates} == {"baseline"}
        assert all(g["passed"] for g in gates) is (code == 0)


@pytest.mark.parametrize(
    ("base_kind", "kind"), [("sentiment", "entities"), ("sentiment", "real"), ("real", "sentiment")]
)
def test_a_baseline_of_another_kind_cannot_be_compared(
    runner: CliRunner, base_kind: str, kind: str, tiny_real_set: Path
) -> None:
    base = runner.invoke(
        app, ["eval", "document_analysis", _dataset(base_kind, tiny_real_set), "--json"]
    )
    eval_id = json.loads(base.stdout)["eval_id"]
    args = ["eval", "document_analysis", _dataset(kind, tiny_real_set), "--baseline", eval_id]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "they cannot be compared" in result.output


@pytest.mark.parametrize(
    ("kind", "metric"),
    [("sentiment", "accuracy"), ("entities", "f1"), ("real", "entity_recall")],
)
def test_compare_works_on_every_kind(
    runner: CliRunner, home: Path, kind: str, metric: str, tiny_real_set: Path
) -> None:
    args = ["--compare", "local/embedded", "always/positive", "--out", str(home / "cmp")]
    dataset = _dataset(kind, tiny_real_set)
    result = runner.invoke(app, ["eval", "document_analysis", dataset, "--json", *args])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    a, b = data["variants"]
    assert (a["model"], b["model"]) == ("local/embedded", "always/positive")
    assert a["metrics"][metric] > b["metrics"][metric]
    assert Path(data["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
