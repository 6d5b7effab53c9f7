"""The ``batch-documents`` flow end to end: a folder in, results files and a verdict out.

Model calls go either to the embedded model (no network at all) or, over real HTTP through
litellm, to the stub server running in a child process, whose counters tell exactly how
many requests each run made.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents

from tests.support import StubConfig, StubProcess
from tests.support.corpus import write_corpus
from tests.support.operator_env import operator_env

pytestmark = pytest.mark.prefect

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "documents"
MODEL = "openai/gpt-4o-mini"
MiB = 1 << 20

RESULT_COLUMNS = [
    "id", "status", "error", "summary", "topics", "sentiment_label", "sentiment_score",
    "entities", "grounded", "tokens_in", "tokens_out", "cost_usd", "duration_ms", "attempts",
    "retries", "cache_hit",
]  # fmt: skip
CONTENT_COLUMNS = [  # what a run computes; duration, cost and cache_hit vary between runs
    "id", "status", "error", "summary", "topics", "sentiment_label", "sentiment_score",
    "entities", "grounded", "tokens_in", "tokens_out", "attempts",
]  # fmt: skip
TRACE_FIELDS = [
    "document", "step", "status", "attempts", "start", "duration_ms", "model", "prompt",
    "tokens_in", "tokens_out", "cost_usd", "error",
]  # fmt: skip
LEAVES = ["summarization", "topic_extraction", "sentiment", "entities", "compilation"]
MODEL_STEPS = LEAVES[:4]
OUTPUT_FILES = {"results.csv", "results.parquet", "trace.jsonl", "report.md"}


# --------------------------------------------------------------------------- helpers


async def run_batch(folder: Path, out: Path, **options: Any) -> tuple[Any, dict[str, Any]]:
    """Run the flow; returns its final state and the brief it returned (data of Failed)."""
    api_base = options.pop("api_base", None)
    params = BatchParams(folder=str(folder), out=str(out), concurrency=4, **options)
    # The test is the operator: its stub's base URL and its model are configured ones.
    with operator_env(api_base, params.model):
        state = await batch_documents(**params.flow_parameters(), return_state=True)
    brief = await state.result(raise_on_failure=False)
    assert isinstance(brief, dict), f"flow crashed: {state.message}: {brief!r}"
    return state, brief


def read_rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_id = {row["id"]: row for row in rows}
    assert len(by_id) == len(rows), "duplicate ids in results.csv"
    return by_id


def content(out: Path) -> dict[str, dict[str, str]]:
    return {k: {c: row[c] for c in CONTENT_COLUMNS} for k, row in read_rows(out).items()}


def read_trace(out: Path) -> list[dict[str, Any]]:
    """The step lines of trace.jsonl (event lines, e.g. concurrency changes, left out)."""
    lines = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    return [line for line in lines if "event" not in line]


def calls_since(stub: StubProcess, before: int) -> int:
    return int(stub.stats()["calls"]) - before


def write_zip_bomb(path: Path, mib: int) -> None:
    """A DOCX-shaped zip with one member of ``mib`` MiB of zeros (ratio ~1000:1)."""
    chunk = bytes(MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(mib):
                member.write(chunk)


@pytest.fixture
def stub(stub_process: StubProcess, monkeypatch: pytest.MonkeyPatch) -> StubProcess:
    """The module's stub with default settings and zeroed counters."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-batch-0123456789abcdef")
    stub_process.configure(**StubConfig().model_dump())
    stub_process.reset()
    return stub_process


# --------------------------------------------------------------------------- mixed folder

HOSTILE_HTML = (
    b"<html><head><title>Harbour notice</title><script>window.exfiltrate('cookies')</script>"
    b"</head><body><div data-payload='" + b"A" * 300_000 + b"'>"
    b"<p>The harbour office in Lisbon opens on 3 March 2025 with Grace Kim as director.</p>"
    b"</div><script>document.write('injected text')</script>"
    b"<style>p { color: red }</style></body></html>"
)

BAD_FILES = {
    "bad/corrupt.pdf": "corrupt PDF",
    "bad/empty.txt": "empty file (0 bytes)",
    "bad/binary.txt": "binary content (NUL bytes) in a text file",
    "bad/program.exe": "unsupported file type '.exe'",
    "bad/huge.txt": "file too large: 60.0 MiB (limit 50.0 MiB)",
    "bad/bomb.docx": "zip bomb suspected: member 'word/document.xml' expands",
    "bad/dangling.md": "broken link to nowhere.md",
    "bad/script-only.html": "no extractable text",
}
GENERATED = ["generated/doc-00000.txt", "generated/doc-00001.txt", "generated/doc-00002.txt"]
GOOD_FILES = sorted(p.name for p in EXAMPLES.iterdir()) + GENERATED + ["hostile.html"]


def build_mixed_folder(root: Path) -> None:
    shutil.copytree(EXAMPLES, root)
    write_corpus(root / "generated", 3)
    (root / "hostile.html").write_bytes(HOSTILE_HTML)
    bad = root / "bad"
    bad.mkdir()
    (bad / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(b"GIF89a\x00\x01" + bytes(range(256)))
    (bad / "program.exe").write_bytes(b"MZ\x90\x00" + bytes(64))
    with (bad / "huge.txt").open("wb") as fh:
        fh.truncate(60 * MiB)  # sparse: 60 MiB on paper, nothing on disk
    write_zip_bomb(bad / "bomb.docx", mib=12)  # 12 MiB member, over the 10 MiB ratio floor
    (bad / "dangling.md").symlink_to("nowhere.md")
    (bad / "script-only.html").write_bytes(
        b"<html><body><script>alert(1)</script><img src=x onerror='" + b"x" * 100_000 + b"'>"
        b"<noscript>enable js</noscript></body></html>"
    )


@pytest.fixture(scope="module")
async def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One batch, embedded model, over good files beside every kind of bad one."""
    base = tmp_path_factory.mktemp("mixed")
    build_mixed_folder(base / "docs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EIGHTFLOW_HOME", str(base / "home"))
        state, brief = await run_batch(base / "docs", base / "out")
    return {"state": state, "brief": brief, "out": base / "out", "rows": read_rows(base / "out")}


def test_mixed_folder_has_one_row_per_file(mixed: dict[str, Any]) -> None:
    assert sorted(mixed["rows"]) == sorted(GOOD_FILES + list(BAD_FILES))
    brief = mixed["brief"]
    assert (brief["total"], brief["completed"], brief["failed"], brief["unprocessed"]) == (
        len(GOOD_FILES) + len(BAD_FILES), len(GOOD_FILES), len(BAD_FILES), 0,
    )  # fmt: skip


@pytest.mark.parametrize("name", GOOD_FILES)
def test_mixed_folder_good_file_completes(mixed: dict[str, Any], name: str) -> None:
    row = mixed["rows"][name]
    assert (row["status"], row["error"]) == ("completed", "")
    assert row["summary"] and row["topics"] and row["sentiment_label"]
    assert int(row["attempts"]) == len(LEAVES)


@pytest.mark.parametrize(("name", "reason"), sorted(BAD_FILES.items()))
def test_mixed_folder_bad_file_fails_with_reason(
    mixed: dict[str, Any], name: str, reason: str
) -> None:
    row = mixed["rows"][name]
    assert row["status"] == "failed"
    assert reason in row["error"]
    assert (row["summary"], row["tokens_in"], row["attempts"]) == ("", "0", "0")


def test_hostile_html_yields_only_its_visible_text(mixed: dict[str, Any]) -> None:
    row = mixed["rows"]["hostile.html"]
    assert "Lisbon" in row["summary"]
    for hidden in ("exfiltrate", "injected text", "AAAAAAAA", "color: red"):
        assert all(hidden not in value for value in row.values()), hidden


def test_bad_inputs_fail_the_success_rate_only(mixed: dict[str, Any]) -> None:
    """Bad files are the input's fault: the only unmet criterion is the success rate."""
    state, brief = mixed["state"], mixed["brief"]
    processed = len(GOOD_FILES) + len(BAD_FILES)
    expected = (
        f"only {len(GOOD_FILES)} of {processed} documents succeeded "
        f"({len(GOOD_FILES) / processed:.0%} < 95%)"
    )
    assert brief["reasons"] == [expected]
    assert brief["success"] is False and brief["budget_exhausted"] is False
    assert state.is_failed() and state.message == expected
    assert f"**{expected}**" in (mixed["out"] / "report.md").read_text()


# --------------------------------------------------------------------------- output files


def test_results_csv_schema(mixed: dict[str, Any]) -> None:
    header = (mixed["out"] / "results.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[: len(RESULT_COLUMNS)] == RESULT_COLUMNS
    rows = mixed["rows"]
    assert list(rows) == sorted(rows), "rows are sorted by id"
    completed = [r for r in rows.values() if r["status"] == "completed"]
    for row in completed:
        assert int(row["tokens_in"]) > 0 and int(row["tokens_out"]) > 0
        assert float(row["cost_usd"]) == 0.0  # the embedded model is free, not unpriced
        assert float(row["duration_ms"]) > 0 and row["cache_hit"] == "False"
        assert row["grounded"] == "True"  # the embedded model's answers are extractive
        assert -1.0 <= float(row["sentiment_score"]) <= 1.0


def test_results_parquet_matches_csv(mixed: dict[str, Any]) -> None:
    import pandas as pd

    frame = pd.read_parquet(mixed["out"] / "results.parquet")
    rows = mixed["rows"]
    assert list(frame.columns) == list(next(iter(rows.values())))
    assert list(frame["id"]) == list(rows)
    assert list(frame["status"]) == [r["status"] for r in rows.values()]
    assert [int(v) for v in frame["tokens_in"]] == [int(r["tokens_in"]) for r in rows.values()]
    errors = [None if pd.isna(v) else v for v in frame["error"]]
    assert errors == [r["error"] or None for r in rows.values()]


def test_trace_has_one_line_per_step_of_each_completed_document(mixed: dict[str, Any]) -> None:
    trace = read_trace(mixed["out"])
    completed = [k for k, r in mixed["rows"].items() if r["status"] == "completed"]
    assert sorted((t["document"], t["step"]) for t in trace) == sorted(
        (doc, step) for doc in completed for step in LEAVES
    )
    for line in trace:
        assert set(TRACE_FIELDS) <= set(line), set(TRACE_FIELDS) - set(line)
        assert (line["status"], line["attempts"], line["error"]) == ("completed", 1, None)
        assert line["start"] and line["duration_ms"] is not None
        if line["step"] in MODEL_STEPS:
            assert line["model"] == "local/embedded"
            assert line["prompt"] == f"{line['step']}@v1"
            assert line["tokens_in"] > 0 and line["cost_usd"] == 0.0
    # Per document, the trace adds up to the results row.
    for doc in completed:
        steps = [t for t in trace if t["document"] == doc]
        row = mixed["rows"][doc]
        assert sum(t["tokens_in"] for t in steps) == int(row["tokens_in"])
        assert sum(t["attempts"] for t in steps) == int(row["attempts"])


def test_report_has_counts_steps_and_top_errors(mixed: dict[str, Any]) -> None:
    report = (mixed["out"] / "report.md").read_text()
    n_good, n_bad = len(GOOD_FILES), len(BAD_FILES)
    assert report.startswith("# document_analysis batch: not a success\n")
    assert (
        f"- documents: {n_good + n_bad} (completed {n_good}, failed {n_bad}, unprocessed 0; "
        "served from cache 0)"
    ) in report
    steps = report.split("## Steps")[1].split("##")[0]
    for step in LEAVES:
        assert f"| {step} | {n_good} |" in steps
    errors = report.split("## Top errors")[1]
    for reason in BAD_FILES.values():
        assert f"| 1 | DocumentError: {reason}" in errors


def test_no_temporary_or_spool_files_left(mixed: dict[str, Any]) -> None:
    assert set(os.listdir(mixed["out"])) == OUTPUT_FILES


# --------------------------------------------------------------------------- caching


def _prompts_with_sentiment_v2(tmp: Path) -> Path:
    prompts = tmp / "prompts"
    shutil.copytree(REPO / "prompts", prompts)
    v1 = (prompts / "sentiment.v1.md").read_text()
    v2 = v1.replace("version: 1", "version: 2").replace(
        "Rate the sentiment of the document below.",
        "Judge the overall tone of the document below, from -1 to 1.",
    )
    assert v2 != v1
    (prompts / "sentiment.v2.md").write_text(v2)
    return prompts


async def test_caches_repeat_no_finished_work(
    home: Path, tmp_path: Path, stub: StubProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 5
    docs = tmp_path / "docs"
    paths = write_corpus(docs, n)
    options = {"model": MODEL, "api_base": stub.api_base}

    # 1. cold: four calls per document
    _, brief = await run_batch(docs, tmp_path / "out1", **options)
    assert brief["success"] and stub.stats()["calls"] == 4 * n
    first = content(tmp_path / "out1")

    # 2. same folder again: every document served from the outcome cache
    before = stub.stats()["calls"]
    _, brief = await run_batch(docs, tmp_path / "out2", **options)
    assert calls_since(stub, before) == 0
    assert content(tmp_path / "out2") == first
    rows = read_rows(tmp_path / "out2")
    assert all(r["cache_hit"] == "True" and float(r["cost_usd"]) == 0.0 for r in rows.values())
    assert (brief["cache_hits"], brief["model_calls"], brief["cost_usd"]) == (n, 0, 0.0)

    # 3. one document's bytes change: only it is recomputed
    paths[2].write_text(paths[2].read_text() + "\nA late addendum from Dublin.\n")
    before = stub.stats()["calls"]
    await run_batch(docs, tmp_path / "out3", **options)
    assert calls_since(stub, before) == 4
    rows = read_rows(tmp_path / "out3")
    assert [k for k, r in rows.items() if r["cache_hit"] == "False"] == [paths[2].name]
    changed = content(tmp_path / "out3")
    assert changed[paths[2].name]["summary"] != first[paths[2].name]["summary"]
    assert {k: v for k, v in changed.items() if k != paths[2].name} == {
        k: v for k, v in first.items() if k != paths[2].name
    }

    # 4. a new sentiment prompt version: sentiment asked again, other answers cached
    monkeypatch.setenv("EIGHTFLOW_PROMPTS_DIR", str(_prompts_with_sentiment_v2(tmp_path)))
    before = stub.stats()["calls"]
    _, brief = await run_batch(docs, tmp_path / "out4", **options)
    assert calls_since(stub, before) == n
    sent = stub.history(limit=n)
    assert all("Judge the overall tone" in m["messages"][-1]["content"] for m in sent)
    assert brief["success"] and brief["cache_hits"] == 0  # new workflow version: no outcome hit
    trace = read_trace(tmp_path / "out4")
    assert {t["prompt"] for t in trace if t["step"] == "sentiment"} == {"sentiment@v2"}
    cached_steps = ("summarization", "topic_extraction", "entities")
    assert all(t["cache_hit"] for t in trace if t["step"] in cached_steps)
    assert not any(t["cache_hit"] for t in trace if t["step"] == "sentiment")

    # 5. another model: everything again
    before = stub.stats()["calls"]
    await run_batch(docs, tmp_path / "out5", model="openai/gpt-4o", api_base=stub.api_base)
    assert calls_since(stub, before) == 4 * n
    assert stub.history(limit=1)[0]["model"] == "gpt-4o"

    # 6. refresh: everything again, caches ignored
    before = stub.stats()["calls"]
    _, brief = await run_batch(docs, tmp_path / "out6", refresh=True, **options)
    assert calls_since(stub, before) == 4 * n
    assert brief["cache_hits"] == 0 and brief["model_calls"] == 4 * n


# --------------------------------------------------------------------------- budget


@pytest.fixture(scope="module")
async def budget_run(
    stub_process: StubProcess, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """20 documents against a cap that pays for about three of them (twelve calls)."""
    import litellm

    base = tmp_path_factory.mktemp("budget")
    write_corpus(base / "docs", 20)
    stub_process.configure(**StubConfig(latency_ms=50, completion_tokens=40).model_dump())
    stub_process.reset()
    # A synthetic document's prompts are ~330 tokens: a call costs about this much.
    call = sum(litellm.cost_per_token(model=MODEL, prompt_tokens=330, completion_tokens=40))
    cap = 12 * call
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EIGHTFLOW_HOME", str(base / "home"))
        mp.setenv("OPENAI_API_KEY", "sk-test-budget-0123456789abcdef")
        state, brief = await run_batch(
            base / "docs", base / "out", model=MODEL, api_base=stub_process.api_base,
            max_cost_usd=cap,
        )  # fmt: skip
    out = base / "out"
    rows = read_rows(out)
    return {
        "state": state, "brief": brief, "out": out, "rows": rows, "cap": cap,
        "trace": read_trace(out), "stats": stub_process.stats(),
        "spend": sum(float(r["cost_usd"]) for r in rows.values()),
    }  # fmt: skip


def test_budget_exhaustion_fails_the_batch_and_lists_the_rest(budget_run: dict[str, Any]) -> None:
    state, brief, rows = budget_run["state"], budget_run["brief"], budget_run["rows"]
    assert state.is_failed() and "budget exhausted" in state.message
    assert brief["budget_exhausted"] is True
    assert len(rows) == 20
    assert {r["status"] for r in rows.values()} <= {"completed", "budget_exceeded", "unprocessed"}
    unprocessed = [k for k, r in rows.items() if r["status"] == "unprocessed"]
    assert unprocessed and brief["unprocessed"] == len(unprocessed)
    assert all(
        rows[k]["error"] == "budget exhausted before this document started" for k in unprocessed
    )
    report = (budget_run["out"] / "report.md").read_text()
    assert f"- **budget exhausted: {len(unprocessed)} documents left unprocessed**" in report
    listed = report.split("## Unprocessed")[1]
    assert all(f"- {doc}\n" in listed for doc in unprocessed)
    assert all(
        "budget exhausted" in r["error"] for r in rows.values() if r["status"] != "completed"
    )


def test_budget_run_accounts_for_every_stub_call(budget_run: dict[str, Any]) -> None:
    import litellm

    stats, brief, rows, trace = (budget_run[k] for k in ("stats", "brief", "rows", "trace"))
    assert stats["calls"] == brief["model_calls"] == stats["by_outcome"]["ok"] > 0
    assert stats["calls"] == sum(1 for t in trace if t["tokens_in"] > 0)  # one call per step
    report = (budget_run["out"] / "report.md").read_text()
    assert f"- model calls: {stats['calls']};" in report
    usage = stats["usage"]
    assert sum(int(r["tokens_in"]) for r in rows.values()) == usage["prompt_tokens"]
    assert sum(int(r["tokens_out"]) for r in rows.values()) == usage["completion_tokens"]
    priced = litellm.cost_per_token(
        model=MODEL,
        prompt_tokens=usage["prompt_tokens"],
        completion_tokens=usage["completion_tokens"],
    )
    assert budget_run["spend"] == pytest.approx(sum(priced)) == pytest.approx(brief["cost_usd"])


def test_budget_overshoot_is_bounded_by_calls_in_flight(budget_run: dict[str, Any]) -> None:
    """Past the cap, only the calls already in flight (≤ concurrency) may still be paid."""
    max_call = max(t["cost_usd"] or 0.0 for t in budget_run["trace"])  # one call per step
    assert budget_run["spend"] <= budget_run["cap"] + 4 * max_call


# --------------------------------------------------------------------------- faults


@pytest.fixture
def robust_workflow(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register ``tests/flows/robust_workflow.py``'s class the way a user would."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setenv("EIGHTFLOW_WORKFLOWS", "robust_analysis=robust_workflow:RobustAnalysis")
    return "robust_analysis"


async def test_faults_are_retried_until_every_document_completes(
    home: Path,
    tmp_path: Path,
    robust_workflow: str,
    stub_process: StubProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import litellm

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-faults-0123456789abcdef")
    monkeypatch.setenv("EIGHTFLOW_REQUEST_TIMEOUT_S", "1")
    config = StubConfig(
        error_rate=0.3,
        error_kinds=["429", "500", "timeout", "malformed"],
        timeout_hang_s=3,
        seed=7,
        prompt_tokens=300,
        completion_tokens=40,
    )
    n = 20
    write_corpus(tmp_path / "docs", n)
    out = tmp_path / "out"
    stub = stub_process  # the module's stub process, set to this test's faults
    stub.configure(**config.model_dump())
    stub.reset()
    state, brief = await run_batch(
        tmp_path / "docs", out, workflow=robust_workflow, model=MODEL, api_base=stub.api_base
    )
    stats = stub.stats()

    assert state.is_completed(), state.message
    assert (brief["completed"], brief["failed"]) == (n, 0)
    outcomes = stats["by_outcome"]
    failures = stats["calls"] - outcomes["ok"]
    assert outcomes["ok"] == 4 * n  # one good answer per model step, no more
    for kind in ("429", "500", "timeout", "malformed"):
        assert outcomes[kind] > 0, f"no {kind} injected: {outcomes}"

    rows = read_rows(out)
    assert all(r["status"] == "completed" for r in rows.values())
    trace = read_trace(out)
    model_lines = [t for t in trace if t["step"] in MODEL_STEPS]
    assert len(model_lines) == 4 * n
    # Attempts in the trace are the requests the stub saw: one per attempt of a model step.
    assert sum(t["attempts"] for t in model_lines) == stats["calls"]
    assert sum(t["attempts"] - 1 for t in model_lines) == failures > 0
    assert any(t["attempts"] > 2 for t in model_lines)
    for t in trace:
        assert t["status"] == "completed" and t["error"] is None  # ended well
        assert t["tokens_in"] == (300 if t["step"] in MODEL_STEPS else 0)
    for doc, row in rows.items():
        assert int(row["attempts"]) == sum(t["attempts"] for t in trace if t["document"] == doc)
    assert brief["model_calls"] == stats["calls"]

    # Failed attempts brought no usage and cost nothing: spend is the good answers, priced.
    cost_in, cost_out = litellm.cost_per_token(model=MODEL, prompt_tokens=300, completion_tokens=40)
    spend = sum(float(r["cost_usd"]) for r in rows.values())
    assert spend == pytest.approx(outcomes["ok"] * (cost_in + cost_out))
    assert brief["tokens_in"] == outcomes["ok"] * 300


# --------------------------------------------------------------------------- granularity


async def _task_runs(flow_run_id: UUID, expected: int, timeout: float = 20.0) -> list[Any]:
    """The flow run's task runs, once ``expected`` of them have reached the server.

    Prefect 3 reports task runs as events that the server records asynchronously, so a
    read right after the flow may still miss the last few.
    """
    import asyncio
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    async with get_client() as client:
        while True:
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            done = [t for t in runs if t.state is not None and t.state.is_final()]
            if len(done) >= expected or time.monotonic() > deadline:
                return runs
            await asyncio.sleep(0.2)


async def test_step_granularity_gives_the_same_results(
    home: Path, tmp_path: Path, stub: StubProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EIGHTFLOW_RUNNING_EVENT_AFTER_S", "600")  # no document outlasts it
    docs = tmp_path / "docs"
    names = [p.name for p in write_corpus(docs, 3)]
    options = {"model": MODEL, "api_base": stub.api_base}

    by_document, _ = await run_batch(docs, tmp_path / "doc", granularity="document", **options)
    by_step, brief = await run_batch(
        docs, tmp_path / "step", granularity="step", refresh=True, **options
    )

    assert by_document.is_completed() and by_step.is_completed()
    assert brief["model_calls"] == 12 and stub.stats()["calls"] == 24
    assert content(tmp_path / "step") == content(tmp_path / "doc")

    step_runs = await _task_runs(by_step.state_details.flow_run_id, 3 * len(LEAVES))
    assert sorted(t.name for t in step_runs) == sorted(
        f"{step} [{name}]" for name in names for step in LEAVES
    )
    assert all(t.state.is_completed() for t in step_runs)
    trace = read_trace(tmp_path / "step")
    by_name = {t.name: str(t.id) for t in step_runs}
    assert all(
        line["task_run_id"] == by_name[f"{line['step']} [{line['document']}]"] for line in trace
    )

    doc_runs = await _task_runs(by_document.state_details.flow_run_id, 3)
    assert sorted(t.name for t in doc_runs) == names
    # Every document is a task run with its state and times, from one event: a document
    # that ends within EIGHTFLOW_RUNNING_EVENT_AFTER_S sends only its final state.
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        for run in doc_runs:
            assert run.state.is_completed() and run.run_count == 1
            assert run.start_time is not None and run.end_time is not None
            assert run.start_time <= run.end_time
            states = await client.read_task_run_states(run.id)
            assert [s.name for s in states] == ["Completed"]
