"""A model found priced is remembered under its price sources; any change asks litellm again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from eightflow.gateway import price_memo
from eightflow.gateway.price_memo import MEMO_FILE, known_priced, remember_priced

MODEL = "openai/gpt-4o-mini"


@pytest.mark.parametrize(
    ("model", "remembered", "known"),
    [
        pytest.param("local/embedded", False, True, id="the embedded model is free"),
        pytest.param("replay/openai/x", False, True, id="a replayed answer is free"),
        pytest.param(MODEL, False, False, id="never checked: ask litellm"),
        pytest.param(MODEL, True, True, id="found priced before"),
    ],
)
def test_known_priced(home: Path, model: str, remembered: bool, known: bool) -> None:
    home.mkdir(parents=True)
    if remembered:
        remember_priced(model)
    assert known_priced(model) is known


@pytest.mark.parametrize(
    "change",
    ["price file added", "price file edited", "litellm upgraded", "memo unreadable"],
)
def test_a_change_in_where_prices_come_from_forgets_the_verdict(
    home: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    home.mkdir(parents=True)
    prices = home / "prices.json"
    if change == "price file edited":
        prices.write_text("{}")
    remember_priced(MODEL)
    assert known_priced(MODEL)
    if change == "price file added":
        prices.write_text("{}")
    elif change == "price file edited":
        prices.write_text('{"openai/other": {}}')
    elif change == "litellm upgraded":
        monkeypatch.setattr(price_memo, "litellm_version", lambda: "999.0.0")
    else:
        (home / MEMO_FILE).write_text("not json")
    assert not known_priced(MODEL)
    remember_priced(MODEL)  # checked again: remembered under the new sources
    assert known_priced(MODEL)


def test_only_a_model_found_priced_is_remembered(home: Path) -> None:
    from eightflow.errors import UnpricedModelError
    from eightflow.gateway.pricing import require_price

    home.mkdir(parents=True)
    with pytest.raises(UnpricedModelError):
        require_price("openai/no-such-model-memo")
    require_price(MODEL)
    assert known_priced(MODEL)
    assert not known_priced("openai/no-such-model-memo")
    assert (home / MEMO_FILE).stat().st_mode & 0o077 == 0  # the home's files stay private


def test_checking_the_memo_imports_no_litellm() -> None:
    code = (
        "import sys\n"
        "from eightflow.gateway.price_memo import known_priced\n"
        "import eightflow.gateway\n"
        f"known_priced({MODEL!r})\n"
        "print('litellm' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
