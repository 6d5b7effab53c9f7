"""The seed's workflow as Prefect sees it: flow run, one task run per step, two artifacts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow
from eightflow_app.tasks.loading import load_document

from eightflow import WorkflowResult
from tests.support.log_lines import WarningLines

pytestmark = pytest.mark.prefect

REPO = Path(__file__).resolve().parents[2]
LEAVES = ["summarization", "topic_extraction", "sentiment", "entities", "compilation"]
TRACE_COLUMNS = [
    "step",
    "status",
    "attempts",
    "start",
    "duration_ms",
    "model",
    "prompt",
    "tokens_in",
    "tokens_out",
    "cost_usd",
    "error",
]


@pytest.fixture(scope="module")
async def seed_run() -> tuple[DocumentAnalysisWorkflow, WorkflowResult, dict[str, Any]]:
    """One run of the seed workflow on examples/sample.md, and what Prefect recorded."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    workflow = DocumentAnalysisWorkflow()
    document = load_document(REPO / "examples" / "sample.md")
    result = await workflow.execute(document=document)
    assert result.flow_run_id is not None
    run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(result.flow_run_id)]))
    async with get_client() as client:
        flow_run = await client.read_flow_run(UUID(result.flow_run_id))
        flow = await client.read_flow(flow_run.flow_id)
        # Prefect 3 records task runs from client events, a moment after they happen.
        deadline = time.monotonic() + 15
        while True:
            task_runs = await client.read_task_runs(flow_run_filter=run_filter)
            settled = len(task_runs) >= len(LEAVES) and all(
                t.state is not None and t.state.is_final() for t in task_runs
            )
            if settled or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        artifacts = await client.read_artifacts(flow_run_filter=run_filter)
    return (
        workflow,
        result,
        {
            "flow_run": flow_run,
            "flow": flow,
            "task_runs": task_runs,
            "artifacts": {a.key: a for a in artifacts},
        },
    )


def test_flow_run_name_and_version(seed_run: Any) -> None:
    workflow, result, prefect = seed_run
    assert prefect["flow"].name == "document-analysis"
    assert prefect["flow_run"].flow_version == workflow.version == result.version
    assert prefect["flow_run"].state.is_completed()
    assert result.ui_url and result.ui_url.endswith(f"/runs/flow-run/{result.flow_run_id}")


def test_one_task_run_per_leaf_step(seed_run: Any) -> None:
    _, result, prefect = seed_run
    task_runs = prefect["task_runs"]
    assert len(task_runs) == len(LEAVES)
    by_step = {}
    for task_run in task_runs:
        step = next(name for name in LEAVES if task_run.name.startswith(name))
        by_step[step] = task_run
        assert task_run.state.is_completed()
    assert sorted(by_step) == sorted(LEAVES)
    # The document id labels each task run, and the step record points at its task run.
    assert by_step["summarization"].name == "summarization [sample.md]"
    for name in LEAVES:
        assert result.step(name).task_run_id == str(by_step[name].id)


def test_report_artifact(seed_run: Any) -> None:
    _, result, prefect = seed_run
    artifact = prefect["artifacts"]["document-analysis-report"]
    assert artifact.type == "markdown"
    text = artifact.data
    assert text.startswith("# document_analysis: completed")
    assert "```mermaid\nflowchart TD" in text
    mermaid = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert "subgraph parallel_analysis" in mermaid
    for name in LEAVES:
        assert f"  class {name} completed" in mermaid
    assert (
        "| step | status | attempts | duration ms | model | prompt | tokens in/out | cost | error |"
        in text
    )
    table = [
        line for line in text.splitlines() if line.startswith("| ") and "| completed |" in line
    ]
    assert [line.split(" | ")[0].removeprefix("| ") for line in table] == LEAVES
    assert result.run_id in text and result.run_id in (artifact.description or "")


def test_trace_artifact(seed_run: Any) -> None:
    _, result, prefect = seed_run
    artifact = prefect["artifacts"]["document-analysis-trace"]
    assert artifact.type == "table"
    rows = _table_rows(artifact.data)
    assert [row["step"] for row in rows] == LEAVES
    for row in rows:
        assert list(row)[: len(TRACE_COLUMNS)] == TRACE_COLUMNS
        assert row["status"] == "completed" and row["attempts"] == 1 and row["error"] is None
    by_step = {row["step"]: row for row in rows}
    for name in ("summarization", "topic_extraction", "sentiment", "entities"):
        row = by_step[name]
        assert row["model"] == "local/embedded"
        assert row["prompt"] == f"{name}@v1"
        assert row["tokens_in"] > 0 and row["tokens_out"] > 0
        assert row["cost_usd"] == 0.0
    assert by_step["compilation"]["model"] is None and by_step["compilation"]["tokens_in"] == 0
    assert all(row["run_id"] == result.run_id for row in rows)


def test_a_step_without_model_calls_costs_zero_not_unpriced(seed_run: Any) -> None:
    """A step that made no model call has a known cost, $0, not an unknown one."""
    _, result, prefect = seed_run
    assert result.step("compilation").calls == []
    assert result.cost_usd == 0.0
    trace = prefect["artifacts"]["document-analysis-trace"].data
    rows = {row["step"]: row for row in _table_rows(trace)}
    report = prefect["artifacts"]["document-analysis-report"].data
    line = next(line for line in report.splitlines() if line.startswith("| compilation |"))
    assert "unpriced" not in line and "$0.000000" in line
    assert rows["compilation"]["cost_usd"] == 0.0


def _table_rows(data: Any) -> list[dict[str, Any]]:
    import json

    value = json.loads(data) if isinstance(data, str) else data
    assert isinstance(value, list)
    return value


def test_outputs_of_the_seed_sample(seed_run: Any) -> None:
    _, result, _ = seed_run
    outputs = result.outputs
    assert {"summary", "topics", "sentiment", "entities"} <= set(outputs)
    assert "Kilmory Bay" in outputs["summary"]
    assert outputs["topics"] and all(isinstance(t, str) and t for t in outputs["topics"])
    assert outputs["sentiment"].label in {"positive", "negative", "neutral"}
    assert -1 <= outputs["sentiment"].score <= 1
    names = {e.text for e in outputs["entities"].entities}
    assert {"Kilmory Bay", "Alasdair Munro"} & names
    assert result.status == "completed" and result.failed_criteria == []
    assert outputs["report"]["summary"] == outputs["summary"]


def test_recorded_times_follow_the_graph(seed_run: Any) -> None:
    _, result, _ = seed_run
    summarization = result.step("summarization")
    topics = result.step("topic_extraction")
    sentiment, entities = result.step("sentiment"), result.step("entities")
    compilation = result.step("compilation")
    assert summarization.finished <= topics.started
    assert sentiment.started < summarization.finished
    assert entities.started < summarization.finished
    assert sentiment.group == entities.group == "parallel_analysis"
    for dep in (topics, sentiment, entities):
        assert dep.finished <= compilation.started


# -- what a failed publish logs ----------------------------------------------------------------

SHAPED_KEY = "sk-proj-" + "Q7xv9Lm2" * 6  # an OpenAI key by its shape alone
ENV_KEY = "tok-" + "z8Kq4Rw1" * 5  # no known shape: caught as OPENAI_API_KEY's value


def _failing(secret: str) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"401 from http://127.0.0.1:9/api: Authorization: Bearer {secret}")

    return fail


@pytest.mark.parametrize("secret", [SHAPED_KEY, ENV_KEY], ids=["shaped", "environment"])
@pytest.mark.parametrize("where", ["publishing the artifacts", "reading the decisions"])
async def test_a_failure_is_logged_without_the_secret_in_its_text(
    monkeypatch: pytest.MonkeyPatch, where: str, secret: str
) -> None:
    from eightflow.compiler import artifacts

    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    handler = WarningLines()
    logger = logging.getLogger("eightflow.artifacts")
    monkeypatch.setattr(logger, "level", logging.WARNING)
    logger.addHandler(handler)
    try:
        if where == "publishing the artifacts":
            monkeypatch.setattr(artifacts.FlowRunContext, "get", lambda: object())
            monkeypatch.setattr(artifacts, "acreate_markdown_artifact", _failing(secret))
            definition, result = SimpleNamespace(name="w"), SimpleNamespace(run_id="run-7")
            await artifacts.publish_run(definition, result, extra={"note": "x"})  # type: ignore[arg-type]
        else:
            import eightflow.review.people as people

            monkeypatch.setattr(people, "decisions_of_run", _failing(secret))
            assert artifacts._people("run-7") == ""
    finally:
        logger.removeHandler(handler)
    [message] = handler.messages
    assert "run-7" in message and "401 from" in message and "[REDACTED]" in message
    assert secret not in message and secret[-16:] not in message
