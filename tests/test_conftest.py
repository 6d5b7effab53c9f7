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


# The two tests below run in this order (file order): the first starts the session's Prefect
# test server, the second checks that an unmarked test still cannot reach it.


@pytest.mark.prefect
def test_a_marked_test_gets_the_sessions_prefect_api(prefect_api: str) -> None:
    import httpx
    from prefect.settings import PREFECT_API_URL

    assert PREFECT_API_URL.value() == prefect_api
    assert httpx.get(f"{prefect_api}/health", timeout=30).status_code == 200


def test_an_unmarked_test_has_no_prefect_api_and_no_ephemeral_server(
    require: Require,
) -> None:
    from prefect.settings import get_current_settings

    assert require.__globals__["_settings_without_api"], "the Prefect test server is not up"
    settings = get_current_settings()
    assert settings.api.url is None
    assert settings.server.ephemeral.enabled is False
