"""The shared prerequisite check: skip locally, fail under CI=true, pass when present."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Require = Callable[[bool, str], None]


@pytest.mark.parametrize(
    ("under_ci", "present", "outcome"),
    [
        (False, True, None),
        (True, True, None),
        (False, False, pytest.skip.Exception),
        (True, False, pytest.fail.Exception),
    ],
)
def test_require(
    require: Require,
    monkeypatch: pytest.MonkeyPatch,
    under_ci: bool,
    present: bool,
    outcome: type[BaseException] | None,
) -> None:
    monkeypatch.setitem(require.__globals__, "UNDER_CI", under_ci)
    if outcome is None:
        require(present, "PostgreSQL 15")
        return
    with pytest.raises(outcome, match="PostgreSQL 15"):
        require(present, "PostgreSQL 15")
