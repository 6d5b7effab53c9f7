"""A cost cap on a model with no known price refuses to start; --allow-unpriced overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from eightflow.batch import BatchOptions, BatchRunner
from eightflow.errors import UnpricedModelError
from eightflow.registry import load_workflow


@pytest.mark.parametrize(
    ("model", "cap", "allow", "refused"),
    [
        pytest.param("openai/no-price-model-q", 0.01, False, True, id="unpriced + cap: refused"),
        pytest.param("openai/no-price-model-q", 0.01, True, False, id="--allow-unpriced"),
        pytest.param("openai/no-price-model-q", None, False, False, id="no cap: nothing to hold"),
        pytest.param("openai/gpt-4o-mini", 0.01, False, False, id="priced"),
    ],
)
def test_refusal_before_any_document(
    home: Path, model: str, cap: float | None, allow: bool, refused: bool
) -> None:
    workflow = load_workflow("document_analysis")(model=model)
    options = BatchOptions(model=model, max_cost_usd=cap, allow_unpriced=allow)
    runner = BatchRunner(workflow, options, [], home, loader=lambda p, r: None)  # type: ignore[arg-type,return-value]
    if refused:
        with pytest.raises(UnpricedModelError, match="no-price-model-q"):
            runner.check_prices()
    else:
        runner.check_prices()
    runner.cache.close()


def test_a_model_found_priced_before_is_not_checked_again(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-run's price check is read from the memo: litellm's lookup is not made."""
    from eightflow.gateway import pricing

    model = "openai/gpt-4o-mini"
    workflow = load_workflow("document_analysis")(model=model)
    runner = BatchRunner(
        workflow,
        BatchOptions(model=model, max_cost_usd=0.01),
        [],
        home,
        loader=lambda p, r: None,  # type: ignore[arg-type,return-value]
    )
    runner.check_prices()  # first: asks litellm, and remembers
    asked: list[str] = []
    monkeypatch.setattr(pricing, "require_price", lambda m, **_: asked.append(m))
    runner.check_prices()
    runner.cache.close()
    assert asked == []
