"""End to end: a document carrying secrets leaves no secret in anything a run writes.

The seed workflow runs on the embedded model over a document that quotes an OpenAI-style
key and the value of ``OPENAI_API_KEY``. Neither may appear in the result's JSON, the trace
rows, the markdown report, the Prefect artifacts of the flow run, or any log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import string
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import prefect.main  # noqa: F401  (configures Prefect logging; see below)
import pytest
from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow
from prefect.logging.configuration import ensure_logging_setup

from eightflow import Context, Step, StepResult, Workflow, WorkflowDefinition
from eightflow.observe.report import run_report, trace_rows

pytestmark = pytest.mark.prefect

# Prefect configures logging when ``prefect.main`` is first imported: non-incrementally
# (replacing the root handlers, caplog's included) the first time, and resetting logger
# levels after that. Both happen here, at import, so the levels caplog sets in the test and
# the handler it installs stay in place while the workflow runs.
ensure_logging_setup()

ALPHABET = string.ascii_letters + string.digits


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def _fragments(secret: str, width: int = 16) -> list[str]:
    """Every ``width``-long window of the secret's random part: a partial leak is a leak."""
    body = secret.split("-")[-1]
    return [body[i : i + width] for i in range(len(body) - width + 1)]


def _assert_clean(where: str, text: str, secrets_: list[str]) -> None:
    """No secret, in any letter case, nor any 16-character piece of one, is in ``text``."""
    lowered = text.lower()
    for secret in secrets_:
        assert secret.lower() not in lowered, f"{where} contains a secret"
        leaked = [f for f in _fragments(secret.lower()) if f in lowered]
        assert not leaked, f"{where} contains part of a secret: {leaked[0]}"


async def _final_task_runs(client: Any, flow_run_id: str, expected: int) -> list[Any]:
    """The flow run's task runs once Prefect has recorded them (it does so from events)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
    deadline = time.monotonic() + 15
    while True:
        task_runs = await client.read_task_runs(flow_run_filter=run_filter)
        settled = len(task_runs) >= expected and all(
            t.state is not None and t.state.is_final() for t in task_runs
        )
        if settled or time.monotonic() > deadline:
            return list(task_runs)
        await asyncio.sleep(0.2)


async def test_no_secret_leaves_a_run(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env_key = "sk-proj-" + _random(40)
    planted = "sk-" + _random(40)
    monkeypatch.setenv("OPENAI_API_KEY", env_key)
    # The keys sit in the lead sentence, so the embedded summarizer and keyphrase
    # extractor copy them into the outputs: the sanitizer has real work to do there.
    text = (
        f"Security incident: the production key {planted} and the fallback credential "
        f"{env_key} were exposed in the Harbour Lane platform logs on 4 March 2025.\n\n"
        f"Maria Lopez revoked the key {planted} within the hour and rotated {env_key} too.\n\n"
        "Otherwise the quarter went well: latency fell by 30 percent, the new London region "
        "opened, and customers reported fewer outages than last year."
    )
    caplog.set_level(logging.DEBUG, logger="prefect")
    caplog.set_level(logging.DEBUG, logger="eightflow")

    workflow = DocumentAnalysisWorkflow(document=text)
    result = await workflow.execute()
    assert result.status == "completed"
    both = [planted, env_key]

    # The secrets really went through the run (the steps' inputs held them), and the
    # gateway took them out of the model's answers before any step or writer saw them.
    raw = json.dumps(result.model_dump(mode="json")["outputs"], default=str)
    assert "[REDACTED]" in result.outputs["summary"]
    assert planted.lower() not in raw.lower() and env_key.lower() not in raw.lower()
    assert "[REDACTED]" in json.loads(result.to_json())["outputs"]["summary"]
    assert "[REDACTED]" in (result.step("summarization").input or "")
    assert result.flow_run_id is not None

    _assert_clean("result.to_json()", result.to_json(), both)
    rows = trace_rows(result)
    assert len(rows) == 5
    _assert_clean("trace rows", json.dumps(rows, default=str), both)
    _assert_clean("run report", run_report(workflow.definition, result), both)

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        artifacts = await client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(result.flow_run_id)]))
        )
        flow_run = await client.read_flow_run(UUID(result.flow_run_id))
        task_runs = await _final_task_runs(client, result.flow_run_id, 5)
    assert len(task_runs) == 5
    keys = {a.key for a in artifacts}
    assert {"document-analysis-report", "document-analysis-trace"} <= keys
    for artifact in artifacts:
        data = artifact.data if isinstance(artifact.data, str) else json.dumps(artifact.data)
        assert data
        _assert_clean(f"artifact {artifact.key}", data, both)
        _assert_clean(f"artifact {artifact.key} description", artifact.description or "", both)
    # What Prefect stores about the runs themselves.
    _assert_clean("flow run", flow_run.model_dump_json(), both)
    for task_run in task_runs:
        _assert_clean(f"task run {task_run.name}", task_run.model_dump_json(), both)

    assert caplog.records, "DEBUG logging of prefect/eightflow captured nothing"
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    _assert_clean("logs", logs, both)
    out, err = capsys.readouterr()
    _assert_clean("stdout", out, both)
    _assert_clean("stderr", err, both)

    # The run ledger under the (fresh) EIGHTFLOW_HOME: its rows and its raw files.
    from eightflow.store.ledger import default_ledger

    tables = default_ledger().tables()
    assert [row["run_id"] for row in tables["runs"]] == [result.run_id]
    _assert_clean("ledger rows", json.dumps(tables, default=str), both)
    files = sorted(home.glob("ledger.sqlite*"))
    assert files
    for path in files:
        _assert_clean(path.name, path.read_bytes().decode("latin-1"), both)


class Leaky(Workflow):
    """A handler that fails with a provider-style message quoting a key."""

    key = ""

    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(name="leaky_error", steps=[Step(name="boom", handler=self.boom)])

    async def boom(self, context: Context) -> StepResult:
        raise RuntimeError(f"provider rejected key {type(self).key}")


def _leaky() -> type[Leaky]:
    class Run(Leaky):
        key = "sk-" + _random(40)

    return Run


async def test_failed_step_record_rows_and_report_carry_no_secret() -> None:
    cls = _leaky()
    workflow = cls()
    result = await workflow.execute(raise_on_failure=False)
    record = result.step("boom")
    assert result.status == "failed" and record.status == "failed"
    assert record.error == "provider rejected key [REDACTED]"
    _assert_clean("step record", record.model_dump_json(), [cls.key])
    _assert_clean("rows", json.dumps(trace_rows(result), default=str), [cls.key])
    report = run_report(workflow.definition, result)
    assert "[REDACTED]" in report
    _assert_clean("report", report, [cls.key])


async def test_failed_run_result_json_carries_no_secret() -> None:
    cls = _leaky()
    result = await cls().execute(raise_on_failure=False)
    assert result.status == "failed"
    _assert_clean("result.error", result.error or "", [cls.key])
    _assert_clean("result.to_json()", result.to_json(), [cls.key])


async def test_failed_run_prefect_states_and_logs_carry_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="prefect")
    caplog.set_level(logging.DEBUG, logger="eightflow")
    cls = _leaky()
    result = await cls().execute(raise_on_failure=False)
    assert result.flow_run_id is not None
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        flow_run = await client.read_flow_run(UUID(result.flow_run_id))
        task_runs = await _final_task_runs(client, result.flow_run_id, 1)
    assert flow_run.state is not None and flow_run.state.is_failed()
    [task_run] = task_runs
    assert task_run.state is not None and task_run.state.is_failed()
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert "boom" in logs
    _assert_clean("logs", logs, [cls.key])
    _assert_clean("task run state", task_run.state.message or "", [cls.key])
    _assert_clean("flow run state", flow_run.state.message or "", [cls.key])
