"""``unit_price`` compares models by what litellm's map (or ``prices.json``) says they cost;
an unknown price is None, never 0 (``on_budget=cheaper`` must not pick an unpriced model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eightflow.gateway.pricing import unit_price


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # litellm's bundled map: 1,000 tokens in and 1,000 out.
        ("openai/gpt-4o-mini", 1000 * 1.5e-07 + 1000 * 6e-07),
        ("local/embedded", 0.0),  # the embedded model is free
        ("openai/no-price-model-q", None),
        (
            "openai/finetune-priced-in-file",
            1000 * 1e-06 + 1000 * 3e-06,
        ),  # from EIGHTFLOW_HOME/prices.json
    ],
)
def test_unit_price(home: Path, model: str, expected: float | None) -> None:
    home.mkdir(parents=True, exist_ok=True)
    prices = {
        "openai/finetune-priced-in-file": {
            "input_cost_per_token": 1e-06,
            "output_cost_per_token": 3e-06,
        }
    }
    (home / "prices.json").write_text(json.dumps(prices))
    assert unit_price(model) == (None if expected is None else pytest.approx(expected))


def test_a_bigger_model_costs_more_per_unit() -> None:
    mini, full = unit_price("openai/gpt-4o-mini"), unit_price("openai/gpt-4o")
    assert mini is not None and full is not None and mini < full
