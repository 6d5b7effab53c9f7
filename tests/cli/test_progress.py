"""The batch summary printed at the end of ``eightflow analyze``."""

from __future__ import annotations

import io

from rich.console import Console

from eightflow.batch import BatchSummary
from eightflow.cli.progress import print_batch


def _printed(brief: dict[str, object]) -> str:
    buffer = io.StringIO()
    print_batch(brief, Console(file=buffer, width=300, color_system=None))
    return buffer.getvalue()


def test_a_batch_that_could_not_be_polled_is_a_line_of_the_summary() -> None:
    brief = {**BatchSummary(workflow="w", version="v").brief(), "out": "/tmp/out"}
    comparison = {"waves": [], "batches": 0, "cost_usd": 0.0, "online_cost_usd": 0.0}
    quiet = _printed({**brief, "batch_api": {**comparison, "lost_batches": []}})
    assert "could not be polled" not in quiet
    lost = {"batch_id": "batch_9[red]", "lines": 3, "why": "earlier batch unavailable: X",
            "resent_online": True}  # fmt: skip
    said = _printed({**brief, "batch_api": {**comparison, "lost_batches": [lost]}})
    assert (
        "batch batch_9[red] could not be polled (earlier batch unavailable: X): its 3 lines "
        "were sent online, at the online price"
    ) in said
