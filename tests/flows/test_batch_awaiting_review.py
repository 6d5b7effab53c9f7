"""A batch whose documents wait for people says so: never "success" with 0 completed."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents
from rich.console import Console

from eightflow.cli.progress import print_batch

pytestmark = pytest.mark.prefect  # runs flows against the session's Prefect API

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "documents"
DOCS = ["grant-award-notice.txt", "harbour-lane-q3-results.txt", "supplier-complaint-letter.txt"]


@pytest.fixture
def quiet_prefect() -> Iterator[None]:
    """Prefect's loggers at WARNING, as the CLI runs a batch."""
    prefect_logger = logging.getLogger("prefect")
    level = prefect_logger.level
    prefect_logger.setLevel(logging.WARNING)
    yield
    prefect_logger.setLevel(level)


async def test_a_batch_all_awaiting_review_says_so(
    home: Path, tmp_path: Path, quiet_prefect: None
) -> None:
    folder, out = tmp_path / "docs", tmp_path / "out"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(EXAMPLES / name, folder / name)
    # Every confidence is below 1: every document waits for a person.
    params = BatchParams(folder=str(folder), out=str(out), review_below=1.0)
    state = await batch_documents(**params.flow_parameters(), return_state=True)
    brief = await state.result(raise_on_failure=False)
    assert isinstance(brief, dict), state.message
    assert (brief["completed"], brief["needs_review"]) == (0, 3)
    # the flow's final state, the summary artifact (report.md) and the CLI all say it
    assert state.is_completed() and state.message.startswith("3 awaiting review")
    heading = (out / "report.md").read_text(encoding="utf-8").splitlines()[0]
    assert heading == "# document_analysis batch: 3 awaiting review"
    console = Console(record=True, width=200)
    print_batch({**brief, "out": str(out)}, console)
    text = console.export_text()
    assert "over 3 documents: 3 awaiting review" in text and "success" not in text
    assert "completed 0, awaiting review 3," in text
    # the batch's own INFO lines reached the UI anyway: start, progress, end
    lines = await _logs(state.state_details.flow_run_id)
    assert any(line.startswith("batch started: document_analysis over 3") for line in lines)
    assert any(line.startswith("batch ended: 3 awaiting review") for line in lines), lines
    assert sum(" documents done " in line for line in lines) == 3


async def _logs(flow_run_id: object) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    await APILogHandler.aflush()
    only = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    async with get_client() as client:
        return [log.message for log in await client.read_logs(log_filter=only)]
