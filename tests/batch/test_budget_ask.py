"""``on_budget=ask`` in a flow run: the run waits on a typed form (spend so far, projected
total), a person answers through Prefect's API as the UI does, and the batch goes on as
chosen. Every switch is a Prefect event, a line of report.md and of the brief, and each row
of results.csv names the model and mode that made it.

A flow run without a deployment pauses in place (here); a deployment's run is suspended and
resumed in a new process (``test_budget_ask_suspend.py``); with nobody to answer, the batch
stops and says why.
"""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents

from tests.support.corpus import write_corpus
from tests.support.fake_model import FakeModel
from tests.support.log_lines import WarningLines
from tests.support.operator_env import operator_env

pytestmark = pytest.mark.prefect

PRICEY, CHEAP = "pricey/model", "cheap/model"
DOCS = 6
# One synthetic document costs ~$0.015 on ``pricey`` (~1,300 tokens in, ~150 out): the
# question comes at half the cap, after about two documents.
CAP = 4 * 0.015


@pytest.fixture(scope="module", autouse=True)
def priced_models() -> None:
    FakeModel("pricey", price=(1e-5, 2e-5)).install()
    FakeModel("cheap", price=(1e-7, 2e-7)).install()


async def paused_run(out: Path, timeout: float = 90) -> Any:
    """The batch flow run writing to ``out``, once it is paused."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState
    from prefect.client.schemas.filters import FlowRunFilterStateType as StateType
    from prefect.client.schemas.objects import StateType as Type

    deadline = asyncio.get_running_loop().time() + timeout
    paused = FlowRunFilter(state=FlowRunFilterState(type=StateType(any_=[Type.PAUSED])))
    async with get_client() as client:
        while asyncio.get_running_loop().time() < deadline:
            for run in await client.read_flow_runs(flow_run_filter=paused):
                if run.parameters.get("out") == str(out):
                    return run
            await asyncio.sleep(0.5)
    raise AssertionError("the batch never paused to ask")


async def form_of(run: Any) -> tuple[dict[str, Any], str]:
    from prefect.client.orchestration import get_client
    from prefect.input.run_input import keyset_from_paused_state

    keys = keyset_from_paused_state(run.state)
    async with get_client() as client:
        schema = json.loads(await client.read_flow_run_input(run.id, keys["schema"]))
        description = json.loads(await client.read_flow_run_input(run.id, keys["description"]))
    return schema, description


def read_rows(out: Path) -> list[dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        return sorted(csv.DictReader(fh), key=lambda row: row["id"])


@pytest.mark.parametrize(
    ("answer", "models", "unprocessed"),
    [
        pytest.param({"choice": "cheaper"}, {PRICEY, CHEAP}, 0, id="cheaper"),
        pytest.param({"choice": "raise-cap", "raise_cap_by_usd": 1.0}, {PRICEY}, 0, id="raise"),
        pytest.param({"choice": "stop"}, {PRICEY}, None, id="stop"),
    ],
)
async def test_ask_pauses_with_the_spend_and_goes_on_as_answered(
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: dict[str, Any],
    models: set[str],
    unprocessed: int | None,
) -> None:
    import prefect.events
    from prefect.flow_runs import resume_flow_run

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(prefect.events, "emit_event", lambda **event: sent.append(event))
    monkeypatch.setenv("EIGHTFLOW_CHEAPER_MODELS", CHEAP)
    write_corpus(tmp_path / "docs", DOCS, seed=5)
    out = tmp_path / "out"
    params = BatchParams(
        folder=str(tmp_path / "docs"), out=str(out), model=PRICEY, concurrency=1,
        max_cost_usd=CAP, on_budget="ask", budget_switch_at=0.5,
    )  # fmt: skip
    with operator_env(None, PRICEY):
        running = asyncio.create_task(
            batch_documents(**params.flow_parameters(), return_state=True)
        )
        run = await paused_run(out)
        schema, description = await form_of(run)
        assert set(schema["properties"]) >= {"choice", "raise_cap_by_usd"}
        choices = schema["properties"]["choice"]["enum"]
        assert choices == ["stop", "raise-cap", "cheaper", "batch-api"]
        assert "spent so far" in description and "projected total" in description
        await resume_flow_run(run.id, run_input=answer)  # type: ignore[misc]
        state = await asyncio.wait_for(running, timeout=120)
    brief = await state.result(raise_on_failure=False)
    rows = read_rows(out)
    [switch] = brief["budget_switches"]
    assert switch["policy"] == "ask" and f"a person chose {answer['choice']}" in switch["reason"]
    assert {r["model"] for r in rows if r["status"] == "completed"} == models
    assert {r["mode"] for r in rows if r["status"] == "completed"} == {"direct"}
    [event] = [e for e in sent if e["event"] == "eightflow.batch.budget-switch"]
    assert event["payload"]["to_mode"] == switch["to_mode"]
    assert "## Budget" in (out / "report.md").read_text()
    if unprocessed is None:  # stop: the rest is listed, the run says why
        assert state.is_failed() and "stopped at the budget's switch point" in state.message
        assert brief["unprocessed"] and switch["to_mode"] == "stopped"
    else:
        assert state.is_completed() and brief["completed"] == DOCS


@pytest.mark.parametrize(
    ("context", "api_url", "said"),
    [
        pytest.param(None, "http://127.0.0.1:4200/api", "offline", id="no flow run"),
        pytest.param("run", None, "temporary server", id="temporary in-process server"),
    ],
)
async def test_ask_stops_where_nobody_could_answer(
    monkeypatch: pytest.MonkeyPatch, context: str | None, api_url: str | None, said: str
) -> None:
    from types import SimpleNamespace

    import prefect.settings

    from eightflow.batch import budget_ask

    run = SimpleNamespace(flow_run=SimpleNamespace(id="r", deployment_id=None))
    monkeypatch.setattr(budget_ask, "flow_run_context", lambda: run if context else None)
    settings = SimpleNamespace(api=SimpleNamespace(url=api_url))
    monkeypatch.setattr(prefect.settings, "get_current_settings", lambda: settings)
    choice, _, why = await budget_ask.ask_person("spend nears the cap", 1, 0.5)
    assert choice == "stop" and said in why


async def test_a_refused_pause_says_why_without_the_secret_in_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The error's text becomes the switch's reason (log, event, report.md): sanitized."""
    from types import SimpleNamespace

    import prefect.flow_runs
    import prefect.settings

    from eightflow.batch import budget_ask

    secret = "pa55-w0rd-of-the-prefect-api-9f8e7d"
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", secret)

    async def refused(**_: Any) -> Any:
        raise RuntimeError(f"401 from http://admin:{secret}@127.0.0.1:4200/api")

    run = SimpleNamespace(flow_run=SimpleNamespace(id="r", deployment_id=None))
    monkeypatch.setattr(budget_ask, "flow_run_context", lambda: run)
    monkeypatch.setattr(budget_ask, "run_logger", lambda: budget_ask.log)
    settings = SimpleNamespace(api=SimpleNamespace(url="http://127.0.0.1:4200/api"))
    monkeypatch.setattr(prefect.settings, "get_current_settings", lambda: settings)
    monkeypatch.setattr(prefect.flow_runs, "pause_flow_run", refused)
    choice, _, why = await budget_ask.ask_person("spend nears the cap", 1, 0.5)
    assert choice == "stop" and "RuntimeError: 401" in why
    assert secret not in why


# -- a resumed run whose answers the API cannot give back ---------------------------------------

# Two questions answered before the suspended run was resumed: at $0.30, then at $0.80.
PAUSE_KEYS = ["on-budget-ask-1-300000000", "on-budget-ask-2-800000000"]
API_SECRET = "pa55-w0rd-of-the-prefect-api-1a2b3c"
URL = f"http://admin:{API_SECRET}@127.0.0.1:4200/api/flow_runs/r/set_state"


def _client_errors() -> list[Exception]:
    import httpx

    request = httpx.Request("POST", URL)
    return [
        httpx.ConnectError(f"All connection attempts failed: {URL}", request=request),
        httpx.HTTPStatusError(
            f"Server error '503 Service Unavailable' for url '{URL}'",
            request=request,
            response=httpx.Response(503, request=request),
        ),
    ]


@pytest.mark.parametrize("error", _client_errors(), ids=["unreachable", "503"])
@pytest.mark.parametrize(
    ("fails_at", "cap", "asked"),
    [
        (None, 3.0, 2),  # both answers read: the cap raised by $1 twice
        (2, 2.0, 1),  # the second unreadable: the first applies, question 2 is asked again
        (1, 1.0, 0),  # none readable: the batch goes on as if nobody had answered
    ],
)
async def test_an_unreadable_answer_is_no_answer_and_its_spend_still_counts(
    monkeypatch: pytest.MonkeyPatch,
    fails_at: int | None,
    cap: float,
    asked: int,
    error: Exception,
) -> None:
    from types import SimpleNamespace

    import prefect.flow_runs

    from eightflow.batch import budget_ask, on_budget
    from eightflow.runtime.budget import Budget

    policy = SimpleNamespace(pause_keys=PAUSE_KEYS)
    run = SimpleNamespace(flow_run=SimpleNamespace(id="r", deployment_id="d",
                                                   empirical_policy=policy))  # fmt: skip
    monkeypatch.setattr(budget_ask, "flow_run_context", lambda: run)
    for module in (budget_ask, on_budget):
        monkeypatch.setattr(module, "run_logger", lambda: budget_ask.log)
    asked_the_api: list[str] = []

    async def failing_client(*, wait_for_input: Any, key: str) -> Any:
        asked_the_api.append(key)
        if fails_at is not None and int(key.split("-")[3]) >= fails_at:
            raise error
        return SimpleNamespace(choice="raise-cap", raise_cap_by_usd=1.0)

    monkeypatch.setattr(prefect.flow_runs, "suspend_flow_run", failing_client)
    budget = Budget(max_cost_usd=1.0)
    options = SimpleNamespace(on_budget="ask", budget_switch_at=0.5, mode="direct")
    summary = SimpleNamespace(budget_switches=[], total=0)
    runner = SimpleNamespace(options=options, budget=budget, model="m", summary=summary,
                             batch_id=None)  # fmt: skip
    switch = on_budget.BudgetSwitch(runner)
    messages = WarningLines()
    budget_ask.log.addHandler(messages)
    try:
        await switch.start()  # before any document: the run goes on
    finally:
        budget_ask.log.removeHandler(messages)
    assert budget.max_cost_usd == pytest.approx(cap)
    assert (switch.asked, switch.stopped, switch.armed) == (asked, None, True)
    assert on_budget.spent_usd(budget) == pytest.approx(0.8)  # the cap still holds
    assert asked_the_api == PAUSE_KEYS[: fails_at or len(PAUSE_KEYS)]  # none after a failure
    unreadable = [m for m in messages.messages if "could not be read" in m]
    if fails_at is None:
        assert unreadable == []
    else:
        [said] = unreadable
        assert f"question {fails_at}" in said and type(error).__name__ in said
        assert API_SECRET not in said
