"""Transient faults are outlasted: nothing is lost once the provider recovers.

The stub answers a share of requests with each fault of its matrix (alone, then all
mixed); every document must complete, the command's verdict must be success, and every
attempt must be in ``trace.jsonl`` and in the ledger, as many as the stub received.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.helpers import (
    CALLS_PER_DOC,
    MODEL,
    ledger_requests,
    read_rows,
    read_trace,
    run_batch,
    traced_requests,
)
from tests.support import StubConfig, StubProcess
from tests.support.corpus import write_corpus

pytestmark = [pytest.mark.e2e, pytest.mark.prefect]

KINDS = ["429", "429-retry-after", "500", "503", "timeout", "malformed", "reset", "schema"]


STUB_CONFIG = StubConfig(timeout_hang_s=3, retry_after_s=0.5)  # for stub_process


@pytest.fixture(scope="module")
def stub(stub_process: StubProcess) -> StubProcess:
    """The module's stub server process (tests/conftest.py ``stub_process``)."""
    return stub_process


@pytest.fixture(autouse=True)
def _fast_client(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-chaos-0123456789abcdef")
    monkeypatch.setenv("EIGHTFLOW_REQUEST_TIMEOUT_S", "1")  # a 3 s hang is a timeout


def configure(stub: StubProcess, **config: object) -> None:
    defaults = {"error_rate": 0.0, "outage_s": 0.0, "seed": 11, "error_selection": "random"}
    stub.configure(**{**defaults, **config})
    stub.reset()


def assert_nothing_lost(
    state: object, brief: dict[str, object], out: Path, home: Path, n: int, stub: StubProcess
) -> dict[str, int]:
    stats = stub.stats()
    assert state.is_completed(), state.message  # type: ignore[attr-defined]
    assert (brief["completed"], brief["failed"], brief["success"]) == (n, 0, True), brief
    rows = read_rows(out)
    assert len(rows) == n and all(r["status"] == "completed" for r in rows.values())
    answered = stats["by_outcome"]["ok"] + stats["by_outcome"]["schema"]  # text steps take both
    assert answered >= CALLS_PER_DOC * n
    # Every attempt is on record, in the trace and in the ledger.
    assert traced_requests(out) == stats["calls"]
    batch_id = str(state.state_details.flow_run_id)  # type: ignore[attr-defined]
    assert ledger_requests(home, batch_id) == stats["calls"]
    return dict(stats["by_outcome"])


@pytest.mark.parametrize("kind", KINDS)
async def test_each_fault_alone_is_outlasted(
    kind: str, stub: StubProcess, tmp_path: Path, home: Path
) -> None:
    n = 6
    write_corpus(tmp_path / "docs", n, seed=len(kind))
    configure(stub, error_rate=0.3, error_kinds=[kind])
    state, brief = await run_batch(
        tmp_path / "docs", tmp_path / "out", model=MODEL, api_base=stub.api_base, concurrency=8
    )
    outcomes = assert_nothing_lost(state, brief, tmp_path / "out", home, n, stub)
    assert outcomes[kind] > 0, f"no {kind} injected: {outcomes}"
    if kind != "schema":  # a text step takes any answer: a schema fault may pass unseen
        assert brief["faults_outlasted"] > 0


async def test_thirty_percent_mixed_faults_on_200_documents(
    stub: StubProcess, tmp_path: Path, home: Path
) -> None:
    n = 200
    write_corpus(tmp_path / "docs", n, seed=3)
    configure(stub, error_rate=0.3, error_kinds=KINDS)
    state, brief = await run_batch(
        tmp_path / "docs", tmp_path / "out", model=MODEL, api_base=stub.api_base, concurrency=16
    )
    outcomes = assert_nothing_lost(state, brief, tmp_path / "out", home, n, stub)
    assert all(outcomes[kind] > 0 for kind in KINDS), outcomes
    report = (tmp_path / "out" / "report.md").read_text()
    assert f"faults outlasted: {brief['faults_outlasted']}" in report
    assert f"final pass: {brief['final_pass_documents']} documents" in report


async def test_a_full_outage_then_recovery(stub: StubProcess, tmp_path: Path, home: Path) -> None:
    """Every request fails for ``outage_s`` (15 s here; 60 s by hand, see the README).

    Longer than a step's three attempts (delays of about 1 s and 2 s), so documents run
    out of retries mid-outage and it is the final pass that brings them through.
    """
    n = 10
    write_corpus(tmp_path / "docs", n, seed=5)
    configure(stub, outage_s=15.0, outage_kind="503")
    state, brief = await run_batch(
        tmp_path / "docs", tmp_path / "out", model=MODEL, api_base=stub.api_base, concurrency=8
    )
    outcomes = assert_nothing_lost(state, brief, tmp_path / "out", home, n, stub)
    assert outcomes["503"] > 0
    assert brief["final_pass_documents"] > 0  # the main pass's retries ran out mid-outage


async def test_429_bursts_cut_concurrency_and_the_trace_says_so(
    stub: StubProcess, tmp_path: Path, home: Path
) -> None:
    n = 12
    write_corpus(tmp_path / "docs", n, seed=9)
    configure(stub, error_rate=0.5, error_kinds=["429"])
    state, brief = await run_batch(
        tmp_path / "docs", tmp_path / "out", model=MODEL, api_base=stub.api_base, concurrency=8
    )
    assert_nothing_lost(state, brief, tmp_path / "out", home, n, stub)
    _, events = read_trace(tmp_path / "out")
    cuts = [e for e in events if e["event"] == "concurrency" and e["to"] < e["from"]]
    assert cuts and cuts[0]["from"] == 8 and cuts[0]["to"] == 4
    assert brief["concurrency_changes"] == len(events)


async def test_permanent_errors_are_never_retried(
    stub: StubProcess, tmp_path: Path, home: Path
) -> None:
    """An unknown API key (401 from litellm's view: AuthenticationError) fails at once."""
    n = 3
    write_corpus(tmp_path / "docs", n, seed=1)
    configure(stub)
    _state, brief = await run_batch(
        tmp_path / "docs",
        tmp_path / "out",
        model="openai/gpt-4o-mini",
        api_base=stub.api_base + "/no-such-path",  # 404 for every request: permanent
        concurrency=4,
    )
    assert brief["failed"] == n and brief["final_pass_documents"] == 0
    assert stub.stats()["calls"] == 0 or traced_requests(tmp_path / "out") == n
