"""Provider keys from Prefect Secret blocks: found keys are kept, misses expire."""

from __future__ import annotations

from typing import Any

import pytest

from eightflow.gateway import keys


class _Block:
    def __init__(self, value: str) -> None:
        self.value = value

    def get(self) -> str:
        return self.value


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A worker with an API URL and no key in its environment; a fake clock and Secret."""
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.delenv("KEYTEST_API_KEY", raising=False)
    monkeypatch.setattr(keys, "_SECRET_KEYS", {})
    monkeypatch.setattr(keys, "_SECRET_MISSES", {})
    state: dict[str, Any] = {"now": 1000.0, "answers": [], "loads": 0}
    monkeypatch.setattr(keys.time, "monotonic", lambda: state["now"])

    async def aload(name: str) -> _Block:
        assert name == "keytest-api-key"
        state["loads"] += 1
        answer = state["answers"].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return _Block(answer)

    from prefect.blocks.system import Secret

    monkeypatch.setattr(Secret, "aload", staticmethod(aload))
    return state


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(ConnectionError("API unreachable"), id="lookup failed"),
        pytest.param(ValueError("Unable to find block document"), id="no block yet"),
        pytest.param("", id="empty secret"),
    ],
)
async def test_a_failed_lookup_is_not_kept_for_the_process(
    worker: dict[str, Any], first: Any
) -> None:
    worker["answers"] = [first, "sk-from-block"]
    assert await keys.provider_key("keytest/model") is None
    assert await keys.provider_key("keytest/model") is None  # the miss is kept a while...
    assert worker["loads"] == 1
    worker["now"] += keys.MISS_TTL_S + 1  # ...but not for the life of the process
    assert await keys.provider_key("keytest/model") == "sk-from-block"
    assert worker["loads"] == 2


async def test_a_found_key_is_kept(worker: dict[str, Any]) -> None:
    worker["answers"] = ["sk-from-block"]
    assert await keys.provider_key("keytest/model") == "sk-from-block"
    worker["now"] += 10 * keys.MISS_TTL_S
    assert await keys.provider_key("keytest/model") == "sk-from-block"
    assert worker["loads"] == 1


async def test_the_environment_wins_over_blocks(
    worker: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEYTEST_API_KEY", "sk-from-env")
    assert await keys.provider_key("keytest/model") == "sk-from-env"
    assert worker["loads"] == 0
