"""Attack: a 200 KB PDF whose pages all share one large content stream takes about a
second per page to parse. Batches parsed it in the sandbox, under a time limit; ``eightflow
run``, the adhoc deployments and replay parsed it in-process with no limit. Every path that
reads a document now goes through the same door, so each one stops it at the sandbox's
limit with a clear error naming the file."""

from __future__ import annotations

import asyncio
import csv
import json
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents
from eightflow_app.flows.document_analysis import document_analysis
from eightflow_app.flows.document_triage import document_triage_flow
from fpdf import FPDF
from typer.testing import CliRunner

from eightflow.cli.main import app

pytestmark = pytest.mark.prefect  # runs flows against the session's Prefect API

LIMIT = "ran past its 1 s limit"
CALL = re.compile(r"\bload_document\s*\(|import [^\n]*\bload_document\b")


def hostile_pdf(pages: int = 60, stream_bytes: int = 200_000) -> bytes:
    """A small PDF whose ``pages`` pages all draw the same ``stream_bytes`` content stream."""
    unit = b"BT /F1 9 Tf 20 700 Td (slow text to extract) Tj ET\n"
    content = unit * (stream_bytes // len(unit))
    kids = " ".join(f"{5 + i} 0 R" for i in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
    page += b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    objects += [page] * pages
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def plain_pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


@pytest.fixture
def runner(home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("EIGHTFLOW_LOADER_TIMEOUT_S", "1")
    monkeypatch.setenv("EIGHTFLOW_AUTO_SERVER", "0")  # the session's API, never a new one
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", "1")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("EIGHTFLOW_LOADER_SANDBOX", raising=False)
    return CliRunner()


def _cli_run(runner: CliRunner, pdf: Path) -> str:
    result = runner.invoke(app, ["run", "document_analysis", str(pdf), "--json"])
    assert result.exit_code == 2 and "Traceback" not in result.output  # a usage error
    return result.output


async def _adhoc(flow: Callable[..., Awaitable[object]], pdf: Path) -> str:
    state = await flow(path=str(pdf), return_state=True)
    assert state.is_failed()  # type: ignore[attr-defined]
    return str(state.message)  # type: ignore[attr-defined]


async def _batch(pdf: Path) -> str:
    (pdf.parent / "note.txt").write_text("An ordinary note that loads at once.\n")
    out = pdf.parent.parent / "out"
    params = BatchParams(folder=str(pdf.parent), out=str(out), concurrency=2, final_pass_s=0)
    state = await batch_documents(**params.flow_parameters(), return_state=True)
    await state.result(raise_on_failure=False)
    with (out / "results.csv").open(encoding="utf-8") as fh:
        rows = {row["id"]: row for row in csv.DictReader(fh)}
    assert rows["note.txt"]["status"] == "completed"  # the batch goes on
    assert rows[pdf.name]["status"] == "failed"
    return f"{pdf}: {rows[pdf.name]['error']}"


def _replay(runner: CliRunner, pdf: Path) -> str:
    data = pdf.read_bytes()
    # Longer than the ledger's excerpt: replay re-reads the file.
    pdf.write_bytes(plain_pdf("A quarterly note on the harbour ferry timetable. " * 20))
    first = runner.invoke(app, ["run", "document_analysis", str(pdf), "--json"])
    assert first.exit_code == 0, first.output
    run_id = json.loads(first.stdout)["run_id"]
    pdf.write_bytes(data)  # the recorded file is swapped for the hostile one
    result = runner.invoke(app, ["replay", run_id, "--json"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize(
    "path", ["cli run", "document-analysis adhoc", "document-triage adhoc", "batch", "replay"]
)
async def test_every_path_stops_a_hostile_pdf_at_the_sandbox_limit(
    path: str, runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "docs").mkdir()
    pdf = tmp_path / "docs" / "hostile.pdf"
    pdf.write_bytes(hostile_pdf())
    started = time.monotonic()
    # The CLI runs its own event loop: in a thread, away from this test's.
    if path == "cli run":
        message = await asyncio.to_thread(_cli_run, runner, pdf)
    elif path == "document-analysis adhoc":
        message = await _adhoc(document_analysis, pdf)
    elif path == "document-triage adhoc":
        message = await _adhoc(document_triage_flow, pdf)
    elif path == "batch":
        message = await _batch(pdf)
    else:
        message = await asyncio.to_thread(_replay, runner, pdf)
    one_line = " ".join(message.split())
    assert LIMIT in one_line and "hostile.pdf" in one_line, one_line
    # Parsed in-process, the 60 pages take a minute or more; stopped, the path ends sooner.
    assert time.monotonic() - started < 45


@pytest.mark.parametrize("flow", [document_analysis, document_triage_flow])
def test_adhoc_flows_have_a_time_limit(flow: object) -> None:
    assert getattr(flow, "timeout_seconds", None)


def test_only_the_sandbox_calls_the_in_process_loader() -> None:
    """The door stays one: application and engine code reach ``load_document`` (the
    parser, run inside the sandbox's workers) only through ``sandboxed_load_document``."""
    repo = Path(__file__).resolve().parents[2]
    allowed = {repo / "tasks" / "loading" / "sandbox.py", repo / "tasks" / "loading" / "load.py"}
    allowed.add(repo / "tasks" / "loading" / "__init__.py")  # re-exports it for tests
    callers = [
        path.relative_to(repo).as_posix()
        for folder in ("eightflow", "flows", "tasks", "deployments")
        for path in (repo / folder).rglob("*.py")
        if path not in allowed and CALL.search(path.read_text("utf-8"))
    ]
    assert callers == []
