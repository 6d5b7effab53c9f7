"""Confidence calibrated on the dev split: raw scores mapped to observed accuracy.

The embedded model's raw confidence (:mod:`.confidence`) orders its answers, but says
nothing about how often an answer of that kind is right. ``data/confidence_calibration.txt``
holds, per role and per kind of answer (a sentiment's deciding rule and polarity, an
entity's type), a step function from the raw score to the share of such answers that were
right on the dev split of ``examples/eval/real``. It is fit by ``scripts/calibrate_embedded.py``
(dev only; the test split is never read) with :func:`fit_steps`: isotonic regression (pool
adjacent violators) over the raw score, each step's accuracy shrunk towards one half by
:data:`PRIOR_WEIGHT` pseudo-answers, so a kind seen on five documents cannot claim 1.0. A
kind seen fewer than :data:`MIN_ANSWERS` times is left out: one answer says nothing of how
the raw score ranks the next, so such answers keep their raw score.

File format, one step per line: ``role group upper accuracy count`` (a step covers raw
scores up to ``upper``; the last step of a group covers everything above).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

from eightflow.embedded.resources import data_lines

__all__ = [
    "CALIBRATION",
    "MIN_ANSWERS",
    "PRIOR",
    "PRIOR_WEIGHT",
    "Step",
    "calibrated",
    "fit_steps",
    "format_steps",
]

CALIBRATION = "confidence_calibration.txt"
#: Each step's accuracy is (right + PRIOR * PRIOR_WEIGHT) / (count + PRIOR_WEIGHT).
PRIOR = 0.5
PRIOR_WEIGHT = 2.0
#: Fewer dev answers of a kind than this: no steps (the kind keeps its raw score).
MIN_ANSWERS = 5

#: ``(upper raw score, calibrated accuracy, answers seen)``
Step = tuple[float, float, int]


def fit_steps(pairs: list[tuple[float, bool]]) -> list[Step]:
    """Isotonic steps over ``(raw score, right)`` pairs: accuracy never falls as the raw
    score rises; each step's accuracy is shrunk towards :data:`PRIOR`; none for fewer than
    :data:`MIN_ANSWERS` pairs."""
    if len(pairs) < MIN_ANSWERS:
        return []
    blocks: list[list[float]] = []  # [upper, right, count]
    for raw, right in sorted(pairs):
        if blocks and blocks[-1][0] == raw:
            blocks[-1][1] += right
            blocks[-1][2] += 1
        else:
            blocks.append([raw, float(right), 1.0])
        # pool adjacent violators: merge while the previous block is more accurate
        while len(blocks) > 1 and _rate(blocks[-2]) >= _rate(blocks[-1]):
            upper, right_sum, count = blocks.pop()
            blocks[-1] = [upper, blocks[-1][1] + right_sum, blocks[-1][2] + count]
    return [(round(b[0], 4), round(_rate(b), 4), int(b[2])) for b in blocks]


def calibrated(role: str, group: str, raw: float) -> float | None:
    """The dev accuracy of ``role`` answers of kind ``group`` at ``raw``; None when the
    table has no such kind (the caller keeps its raw score)."""
    steps = _tables().get((role, group))
    if not steps:
        return None
    for upper, accuracy, _ in steps:
        if raw <= upper:
            return accuracy
    return steps[-1][1]


def format_steps(tables: dict[tuple[str, str], list[Step]]) -> list[str]:
    """The lines of :data:`CALIBRATION` for ``tables`` (sorted, so a refit is diffable)."""
    return [
        f"{role} {group} {upper:.4f} {accuracy:.4f} {count}"
        for (role, group), steps in sorted(tables.items())
        for upper, accuracy, count in steps
    ]


def _rate(block: list[float]) -> float:
    return (block[1] + PRIOR * PRIOR_WEIGHT) / (block[2] + PRIOR_WEIGHT)


@cache
def _tables() -> dict[tuple[str, str], list[Step]]:
    tables: dict[tuple[str, str], list[Step]] = defaultdict(list)
    for line in data_lines(CALIBRATION):
        role, group, upper, accuracy, count = line.split()
        tables[(role, group)].append((float(upper), float(accuracy), int(count)))
    return dict(tables)
