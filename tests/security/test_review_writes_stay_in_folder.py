"""``review decide`` rewrites results through the folder it checked, never through a link.

The batch writers open the output folder once and create every file beneath it; a review
decision rewrites results.csv, results.parquet and report.md the same way. A link planted
at one of those names is refused, and its target is left untouched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eightflow.errors import WorkflowError
from eightflow.review.decide import apply_to_results


def _row(out: Path) -> dict[str, object]:
    return {
        "review_id": "r1", "document_id": "a.md", "out_dir": str(out), "decision": "approve",
        "status": "approved", "reviewer": "ana", "output": "sentiment", "final": "positive",
    }  # fmt: skip


def _folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").write_text("id,status,sentiment\na.md,needs_review,neutral\n")
    (out / "report.md").write_text("| a.md | `r1` | pending |\n")
    return out


def test_a_decision_rewrites_the_results_in_place(tmp_path: Path) -> None:
    out = _folder(tmp_path)
    written = apply_to_results(_row(out))
    assert [p.name for p in written] == ["results.csv", "report.md"]
    assert "a.md,completed,positive,approved" in (out / "results.csv").read_text()
    assert "approved by ana" in (out / "report.md").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["report.md", "results.csv"]  # no temp


@pytest.mark.parametrize("name", ["results.csv", "report.md"])
def test_a_link_planted_at_a_results_name_is_refused_and_its_target_untouched(
    tmp_path: Path, name: str
) -> None:
    out = _folder(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text((out / name).read_text())
    (out / name).unlink()
    (out / name).symlink_to(outside)
    before = outside.read_text()
    with pytest.raises(WorkflowError, match="not a plain file"):
        apply_to_results(_row(out))
    assert outside.read_text() == before
