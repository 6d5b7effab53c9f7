"""The one markdown table renderer, used by run reports, ledger reports and batch reports."""

from __future__ import annotations

from typing import Any

import pytest

from eightflow.observe.report import MarkdownCell, markdown_table


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], ["| a | b |", "|---|---|"]),
        ([["x", "y"]], ["| a | b |", "|---|---|", "| x | y |"]),
        ([[1, None]], ["| a | b |", "|---|---|", "| 1 |  |"]),
        ([["x|y", "z"]], ["| a | b |", "|---|---|", "| x\\|y | z |"]),
        ([["line 1\nline 2", "\r\n"]], ["| a | b |", "|---|---|", "| line 1 line 2 |  |"]),
        # Cell text is inert: no links, images, code spans or HTML out of a name or an error.
        (
            [["[x](http://evil)", "<img src=x>"]],
            ["| a | b |", "|---|---|", "| [x\\](http://evil) | &lt;img src=x&gt; |"],
        ),
        ([["`code`", MarkdownCell("`id`")]], ["| a | b |", "|---|---|", "| \\`code\\` | `id` |"]),
    ],
)
def test_markdown_table(rows: list[list[Any]], expected: list[str]) -> None:
    assert markdown_table(["a", "b"], rows) == expected


def test_a_cell_cannot_add_columns() -> None:
    hostile = "a | b | c\n| --- |\n"
    [_, _, row] = markdown_table(["only"], [[hostile]])
    assert row.count(" | ") == 0 and row.count("\\|") == 4 and "\n" not in row
