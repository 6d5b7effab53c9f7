"""The report's renderings on their own (the command's runs are in test_report_cmd.py):
missing numbers show as such, and the Markdown follows the report's sections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from eightflow.cli.report_render import (
    COST_PLOT,
    ms_text,
    number_text,
    percent_text,
    report_markdown,
    step_table_rows,
    usd_text,
)


@pytest.mark.parametrize(
    ("show", "value", "expected"),
    [
        (usd_text, None, "unpriced"),
        (usd_text, 0.0012345, "$0.001234"),
        (percent_text, None, "-"),
        (percent_text, 0.75, "75.0%"),
        (ms_text, None, "-"),
        (ms_text, 12.345, "12.3"),
        (number_text, None, "-"),
        (number_text, 0.5, "0.5000"),
    ],
)
def test_numbers_and_their_absence(
    show: Callable[[float | None], str], value: float | None, expected: str
) -> None:
    assert show(value) == expected


STEP = {
    "name": "summarize", "runs": 2, "p50_ms": 10.04, "p95_ms": 20.06, "p99_ms": None,
    "tokens_in": 30, "tokens_out": 40, "cost_usd": 0.123456789, "failures": 1,
}  # fmt: skip
WORKFLOW = {
    "name": "notes", "runs": 2, "documents": 2, "success_rate": 0.5, "cost_usd": None,
    "cost_per_run_usd": None, "cost_per_document_usd": None,
    "cost_per_successful_document_usd": None, "cache_hit_rate": 0.0, "tokens_in": 30,
    "tokens_out": 40, "steps": [STEP], "groups": [], "failure_reasons": {"Timeout": 1},
}  # fmt: skip


def _report(**changes: Any) -> dict[str, Any]:
    return {"since": None, "workflows": [WORKFLOW], **changes}


@pytest.mark.parametrize(
    ("report", "images", "present", "absent"),
    [
        (_report(workflows=[]), {}, "No runs in the ledger", "## notes"),
        (_report(), {}, "| summarize | 2 | 10.0 | 20.1 | - | 30 | 40 | $0.123457 | 1 |", "Charts"),
        (_report(), {COST_PLOT: "c.png"}, "![Cost per day](c.png)", "No runs"),
        (_report(since="2026-01-01"), {}, "runs started since 2026-01-01", "all runs"),
        (_report(), {}, "| Timeout | 1 |", "## Reviews"),
    ],
)
def test_markdown_sections(
    report: dict[str, Any], images: dict[str, str], present: str, absent: str
) -> None:
    text = report_markdown(report, images)
    assert text.startswith("# eightflow report")
    assert present in text and absent not in text


def test_the_step_table_rounds_and_names_its_workflow() -> None:
    [row] = step_table_rows(_report())
    assert row["workflow"] == "notes" and row["p50_ms"] == 10.0 and row["p99_ms"] is None
    assert row["cost_usd"] == 0.12345679
