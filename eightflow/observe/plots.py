"""PNG charts of the ledger report: spend per day and step latency.

matplotlib is imported inside each function, on the Agg backend (no display, no
network), so importing this module costs nothing. The files are deterministic: fixed
size, resolution and style, and no timestamp or software tag in the PNG metadata.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

_METADATA: dict[str, Any] = {"Software": None}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.style.use("default")
    return plt


def plot_cost_per_day(rows: list[tuple[date, float | None]], path: Path | str) -> Path:
    """Bars of USD per day (``cost_per_day`` rows); unpriced days are marked, not 0."""
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = [day.isoformat() for day, _ in rows]
    values = [cost or 0.0 for _, cost in rows]
    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    try:
        bars = ax.bar(range(len(rows)), values, color="#4c72b0")
        known = [v for (_, c), v in zip(rows, values, strict=True) if c is not None]
        top = max(known, default=0.0) or 0.01  # all free: a small, honest axis
        for bar, (_, cost) in zip(bars, rows, strict=True):
            if cost is not None and len(rows) <= 31:
                ax.text(
                    bar.get_x() + bar.get_width() / 2,
                    cost + top * 0.01,
                    f"${cost:.4f}" if cost < 100 else f"${cost:,.0f}",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
            if cost is None:
                bar.set_color("#cccccc")
                ax.text(
                    bar.get_x() + bar.get_width() / 2,
                    top * 0.02,
                    "unpriced",
                    ha="center",
                    va="bottom",
                    rotation=90,
                    fontsize=8,
                )
        ax.set_xticks(range(len(rows)))
        step = max(1, len(rows) // 15)  # at most ~15 date labels
        ax.set_xticklabels(
            [label if i % step == 0 else "" for i, label in enumerate(labels)],
            rotation=45,
            ha="right",
            fontsize=8,
        )
        ax.set_ylim(0, top * 1.15)
        ax.set_ylabel("USD")
        ax.set_title("Cost per day (UTC)")
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, format="png", metadata=_METADATA)
    finally:
        plt.close(fig)
    return path


def plot_step_latency(report: dict[str, Any], path: Path | str) -> Path:
    """Side-by-side p50 and p95 bars per step of every workflow in a ``ledger_report``."""
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workflows = report.get("workflows", [])
    several = len(workflows) > 1
    labels: list[str] = []
    p50: list[float] = []
    p95: list[float] = []
    for wf in workflows:
        for step in wf["steps"]:
            labels.append(f"{wf['name']}/{step['name']}" if several else step["name"])
            p50.append(step["p50_ms"] or 0.0)
            p95.append(step["p95_ms"] or 0.0)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.0 + 0.9 * len(labels)), 4.5), dpi=100)
    try:
        width = 0.38
        xs = list(range(len(labels)))
        ax.bar([x - width / 2 for x in xs], p50, width, label="p50", color="#4c72b0")
        ax.bar([x + width / 2 for x in xs], p95, width, label="p95", color="#dd8452")
        ax.set_xticks(xs)
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("ms (completed steps)")
        ax.set_title("Step latency")
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, format="png", metadata=_METADATA)
    finally:
        plt.close(fig)
    return path
