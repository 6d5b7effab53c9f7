"""Isotonic calibration steps and their lookup."""

from __future__ import annotations

import pytest

from eightflow.embedded.calibration import (
    MIN_ANSWERS,
    PRIOR,
    PRIOR_WEIGHT,
    fit_steps,
    format_steps,
)


def _shrunk(right: int, count: int) -> float:
    return round((right + PRIOR * PRIOR_WEIGHT) / (count + PRIOR_WEIGHT), 4)


@pytest.mark.parametrize(
    ("pairs", "steps"),
    [
        # rising accuracy: one step per raw score
        (
            [(0.5, False), (0.5, False), (0.5, False), (0.9, True), (0.9, True)],
            [(0.5, _shrunk(0, 3), 3), (0.9, _shrunk(2, 2), 2)],
        ),
        # a violation (more right at the lower score) is pooled into one step
        (
            [(0.5, True), (0.5, True), (0.5, True), (0.9, False), (0.9, False)],
            [(0.9, _shrunk(3, 5), 5)],
        ),
        # all right, few answers: shrunk below 1.0
        ([(1.0, True)] * 5, [(1.0, _shrunk(5, 5), 5)]),
        # too few to say anything: no steps, the raw score stands
        ([(1.0, True)] * (MIN_ANSWERS - 1), []),
        ([], []),
    ],
)
def test_fit_steps(pairs: list[tuple[float, bool]], steps: list[tuple[float, float, int]]) -> None:
    assert fit_steps(pairs) == steps


def test_steps_never_fall_as_the_raw_score_rises() -> None:
    pairs = [(i / 20, (i * 7) % 3 != 0) for i in range(20)]
    accuracies = [accuracy for _, accuracy, _ in fit_steps(pairs)]
    assert accuracies == sorted(accuracies)


def test_format_steps_is_sorted_and_parsable() -> None:
    lines = format_steps({("sentiment", "b"): [(1.0, 0.75, 2)], ("entities", "a"): [(3.0, 0.5, 1)]})
    assert lines == ["entities a 3.0000 0.5000 1", "sentiment b 1.0000 0.7500 2"]


@pytest.mark.e2e
def test_the_shipped_table_is_what_the_script_fits_from_dev() -> None:
    """Reproducible: scripts/calibrate_embedded.py, rerun on dev, rewrites the same file
    (about 15 s: it loads every dev document through the sandboxed loaders)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    path = root / "scripts" / "calibrate_embedded.py"
    spec = importlib.util.spec_from_file_location("calibrate", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--check"]) == 0
