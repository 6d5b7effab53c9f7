"""``on_budget``: at a share of the cap the remaining documents stop, go to a cheaper model,
go through the provider's Batch API, or wait for a person's answer.

The runner runs against scripted fake models with known prices (``pricey`` costs a hundred
times ``cheap``) or the HTTP stub (Batch API); each row says the model and mode that made
it, and the summary lists every switch.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.tasks.loading import load_document

from eightflow.batch import BatchOptions, BatchRunner
from eightflow.batch.models import BatchSummary
from eightflow.batch.on_budget import raise_cap, share_of_cap
from eightflow.errors import BudgetExceeded
from eightflow.registry import load_workflow
from eightflow.runtime.budget import Budget
from tests.support import StubConfig, StubServer
from tests.support.corpus import write_corpus
from tests.support.fake_model import FakeModel
from tests.support.outcome_rows import Rows

pytestmark = pytest.mark.prefect

PRICEY, CHEAP, PRICIER = "pricey/model", "cheap/model", "pricier/model"
DOCS = 8


@pytest.fixture(scope="module", autouse=True)
def priced_models() -> None:
    FakeModel("pricey", price=(1e-5, 2e-5)).install()
    FakeModel("cheap", price=(1e-7, 2e-7)).install()
    FakeModel("pricier", price=(2e-5, 4e-5)).install()


async def run_batch(
    folder: Path, model: str, **options: Any
) -> tuple[BatchSummary, dict[str, Any], BatchRunner]:
    paths = sorted(folder.glob("*.txt"))
    workflow = load_workflow("document_analysis")(model=model, api_base=options.get("api_base"))
    rows = Rows()
    runner = BatchRunner(
        workflow, BatchOptions(model=model, concurrency=1, **options), paths, folder,
        load_document, sinks=[rows],
    )  # fmt: skip
    runner.summary.expected = len(paths)
    summary = await runner.run()
    return summary, {r.id: r for r in rows.rows}, runner


@pytest.fixture(scope="module")
def doc_cost(tmp_path_factory: pytest.TempPathFactory) -> float:
    """What one document costs on the pricey model (the caps below are counted in it)."""
    folder = tmp_path_factory.mktemp("one")
    write_corpus(folder, 1, seed=5)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EIGHTFLOW_HOME", str(folder / "home"))
        summary, _, _ = asyncio.run(run_batch(folder, PRICEY))
    assert summary.completed == 1 and summary.cost_usd
    return float(summary.cost_usd)


@pytest.fixture
def corpus(tmp_path: Path, home: Path) -> Path:
    write_corpus(tmp_path / "docs", DOCS, seed=5)
    return tmp_path / "docs"


async def test_stop_carries_on_to_the_cap_and_switches_nothing(
    corpus: Path, doc_cost: float
) -> None:
    summary, rows, _ = await run_batch(corpus, PRICEY, max_cost_usd=2.5 * doc_cost)
    assert summary.budget_exhausted and summary.budget_switches == []
    assert summary.unprocessed and summary.completed >= 2
    assert {r.model for r in rows.values() if r.status == "completed"} == {PRICEY}
    assert {r.mode for r in rows.values() if r.status == "completed"} == {"direct"}


@pytest.mark.parametrize(
    ("cheaper_models", "switched_to"),
    [
        pytest.param(f"{PRICIER},{CHEAP}", CHEAP, id="first cheaper of the list"),
        pytest.param(PRICIER, None, id="none cheaper: said so, on to the cap"),
        pytest.param("", None, id="none listed"),
    ],
)
async def test_cheaper_sends_the_remaining_documents_to_a_cheaper_model(
    corpus: Path,
    doc_cost: float,
    monkeypatch: pytest.MonkeyPatch,
    cheaper_models: str,
    switched_to: str | None,
) -> None:
    monkeypatch.setenv("EIGHTFLOW_CHEAPER_MODELS", cheaper_models)
    monkeypatch.setenv("EIGHTFLOW_FALLBACK_MODELS", "")
    cap = 4 * doc_cost  # the switch (at half the cap) comes after two pricey documents
    summary, rows, _ = await run_batch(
        corpus, PRICEY, max_cost_usd=cap, on_budget="cheaper", budget_switch_at=0.5
    )
    [switch] = summary.budget_switches
    assert switch["spent_usd"] >= 0.5 * cap and switch["from_model"] == PRICEY
    done = [r for r in rows.values() if r.status == "completed"]
    if switched_to is None:
        assert switch["to_mode"] == "until-cap" and "no model cheaper than" in switch["reason"]
        assert summary.budget_exhausted and {r.model for r in done} == {PRICEY}
        return
    assert (switch["to_model"], switch["to_mode"]) == (CHEAP, "direct")
    assert summary.completed == DOCS and not summary.budget_exhausted
    models = [rows[k].model for k in sorted(rows)]
    # Documents started before the switch finish on their model; every later one is cheap.
    assert models == sorted(models, key=lambda m: m != PRICEY) and models[-1] == CHEAP
    assert models.count(PRICEY) <= switch["documents_done"] + 2  # two consumers in flight
    assert all(r.cost_usd is not None and r.cost_usd < doc_cost / 10 for r in done[-3:])
    assert float(summary.cost_usd or 0) <= cap


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("EIGHTFLOW_BATCH_POLL_S", "0.05")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-onbudget-0123456789abcdef")
    with StubServer(StubConfig()) as server:
        yield server


@pytest.mark.parametrize(
    ("model", "to_mode"),
    [
        pytest.param("openai/gpt-4o-mini", "batch-api", id="openai: Batch API"),
        pytest.param(PRICEY, "until-cap", id="no Batch API: said so, on to the cap"),
    ],
)
async def test_batch_api_sends_the_remaining_documents_through_the_batch_api(
    corpus: Path, stub: StubServer, model: str, to_mode: str
) -> None:
    api_base = stub.api_base if model.startswith("openai/") else None
    first, _, _ = await run_batch(corpus, model, api_base=api_base, refresh=True)
    per_doc = float(first.cost_usd or 0) / DOCS
    assert per_doc > 0
    cap = 6 * per_doc
    summary, rows, _ = await run_batch(
        corpus, model, api_base=api_base, max_cost_usd=cap, on_budget="batch-api",
        budget_switch_at=0.25, refresh=True,
    )  # fmt: skip
    [switch] = summary.budget_switches
    assert switch["to_mode"] == to_mode
    modes = [rows[k].mode for k in sorted(rows) if rows[k].status == "completed"]
    if to_mode == "until-cap":
        assert "no Batch API" in switch["reason"] or "not available" in switch["reason"]
        assert set(modes) == {"direct"} and summary.budget_exhausted
        return
    assert summary.completed == DOCS, summary.errors
    assert modes[0] == "direct" and modes[-1] == "batch-api"
    assert modes == sorted(modes, key=lambda m: m != "direct")
    assert summary.batch_api is not None and summary.batch_api["batches"] >= 1
    batch_rows = [r for r in rows.values() if r.mode == "batch-api"]
    # At the batch price: about half of what the same document cost online.
    assert all(r.cost_usd is not None and r.cost_usd < 0.75 * per_doc for r in batch_rows)


@pytest.mark.parametrize(
    ("mode", "chosen"),
    [
        pytest.param("direct", CHEAP, id="direct: the first cheaper model"),
        pytest.param("batch-api", "openai/gpt-4o-mini", id="batch-api: one with a Batch API"),
    ],
)
def test_cheaper_keeps_the_lane_s_mode(
    monkeypatch: pytest.MonkeyPatch, mode: str, chosen: str
) -> None:
    from types import SimpleNamespace

    from eightflow.batch.on_budget import BudgetSwitch, Lane

    monkeypatch.setenv("EIGHTFLOW_CHEAPER_MODELS", f"{CHEAP},openai/gpt-4o-mini")
    runner = SimpleNamespace(
        options=BatchOptions(max_cost_usd=1.0, on_budget="cheaper"),
        budget=Budget(max_cost_usd=1.0),
        model="openai/gpt-4o",
        summary=BatchSummary(workflow="w", version="v"),
        workflow=SimpleNamespace(fallback_models=()),
    )
    switch = BudgetSwitch(runner)
    switch.lane = Lane("openai/gpt-4o", mode)  # type: ignore[arg-type]
    assert switch._cheaper_model("openai/gpt-4o")[0] == chosen


async def test_ask_without_a_flow_run_stops_and_says_why(corpus: Path, doc_cost: float) -> None:
    summary, rows, _ = await run_batch(
        corpus, PRICEY, max_cost_usd=4 * doc_cost, on_budget="ask", budget_switch_at=0.5
    )
    [switch] = summary.budget_switches
    assert switch["to_mode"] == "stopped" and "offline" in switch["reason"]
    unprocessed = [r for r in rows.values() if r.status == "unprocessed"]
    assert unprocessed and all("on_budget stopped" in (r.error or "") for r in unprocessed)
    assert not summary.budget_exhausted
    assert any("stopped at the budget's switch point" in r for r in summary.criteria())


@pytest.mark.parametrize(
    ("spent", "cap", "raise_by", "share_after"),
    [(8.0, 10.0, 10.0, 0.4), (10.0, 10.0, 5.0, 10 / 15), (0.0, 1.0, 0.0, 0.0)],
)
def test_raising_the_cap_reopens_a_crossed_budget(
    spent: float, cap: float, raise_by: float, share_after: float
) -> None:
    budget = Budget(max_cost_usd=cap)
    reservation = budget.reserve(0, 0.0)
    with contextlib.suppress(BudgetExceeded):  # crossing the cap raises: no call may start
        budget.settle(reservation, 0, spent)
    raise_cap(budget, raise_by)
    assert share_of_cap(budget) == pytest.approx(share_after)
    assert bool(budget.exhausted) == (spent >= cap + raise_by)
    if not budget.exhausted:
        budget.reserve(0, 0.1)  # a call may start again


def test_a_document_in_a_direct_lane_imports_no_litellm() -> None:
    """A re-run served from cache enters every document's lane: that alone must not cost
    litellm's import (1.4 s of CPU); only a Batch API lane needs the gateway."""
    import subprocess
    import sys

    code = (
        "import asyncio, sys\n"
        "from types import SimpleNamespace\n"
        "from eightflow.batch.models import BatchOptions, BatchSummary\n"
        "from eightflow.batch.on_budget import BudgetSwitch, Lane\n"
        "from eightflow.runtime.budget import Budget\n"
        "runner = SimpleNamespace(options=BatchOptions(), budget=Budget(), model='openai/m',\n"
        "    summary=BatchSummary(workflow='w', version='v'),\n"
        "    workflow=SimpleNamespace(fallback_models=()))\n"
        "switch = BudgetSwitch(runner)\n"
        "async def enter():\n"
        "    async with switch.entered(Lane('openai/m', 'direct')):\n"
        "        pass\n"
        "asyncio.run(enter())\n"
        "print('litellm' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_a_switch_s_reason_is_sanitized_before_the_log_the_event_and_the_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from eightflow.batch import on_budget
    from eightflow.batch.on_budget import BudgetSwitch

    secret = "sk-proj-" + "Q7x9" * 12
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(on_budget, "emit_switch_event", lambda entry, *_: sent.append(entry))
    runner = SimpleNamespace(
        options=BatchOptions(max_cost_usd=1.0, on_budget="batch-api"),
        budget=Budget(max_cost_usd=1.0),
        model=PRICEY,
        batch_id="b",
        summary=BatchSummary(workflow="w", version="v"),
    )
    switch = BudgetSwitch(runner)
    switch._record(PRICEY, "until-cap", f"refused: key {secret} is not allowed", False)
    [entry] = runner.summary.budget_switches
    assert secret not in entry["reason"] and secret not in sent[0]["reason"]
    assert "refused: key" in entry["reason"]


@pytest.mark.parametrize(("policy", "cap", "said"), [("cheaper", None, True),
    ("ask", None, True), ("stop", None, False), ("cheaper", 1.0, False)])  # fmt: skip
def test_a_policy_without_a_cap_says_it_does_nothing(
    caplog: pytest.LogCaptureFixture, policy: str, cap: float | None, said: bool
) -> None:
    from types import SimpleNamespace

    from eightflow.batch.on_budget import BudgetSwitch

    runner = SimpleNamespace(
        options=BatchOptions(max_cost_usd=cap, on_budget=policy),
        budget=Budget(max_cost_usd=cap),
        model=PRICEY,
        summary=BatchSummary(workflow="w", version="v"),
    )
    with caplog.at_level("WARNING", logger="eightflow.batch.budget_ask"):
        BudgetSwitch(runner)
    assert ("has no effect" in caplog.text) == said
