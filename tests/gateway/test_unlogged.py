"""litellm's success logging is skipped only when nothing would receive it; cost stays litellm's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from eightflow.gateway import ModelGateway
from eightflow.gateway.unlogged import _CALLBACK_LISTS, logging_wanted
from tests.support.stub_server import StubConfig, StubServer

MODEL = "openai/gpt-4o-mini"
PROMPT_TOKENS, COMPLETION_TOKENS = 13, 7
MARKER = "calm-7f3a0c"  # this file's input: what the recorder listens for


def _litellm() -> Any:
    import litellm

    return litellm


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch, home: object) -> Iterator[StubServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "u" * 32)
    config = StubConfig(prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS)
    with StubServer(config) as server:
        yield server


@pytest.fixture
def success_handlers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls litellm's async success handler served (it still runs as it would).

    litellm copies a registered callback into its other lists: each gets a fresh list here,
    so no callback outlives the test.
    """
    from litellm.litellm_core_utils.litellm_logging import Logging

    litellm = _litellm()
    for name in _CALLBACK_LISTS:
        monkeypatch.setattr(litellm, name, [])

    seen: list[str] = []
    original = Logging.async_success_handler

    async def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(self.model))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Logging, "async_success_handler", spy)
    return seen


def _recording_logger() -> Any:
    from litellm.integrations.custom_logger import CustomLogger

    class Recorder(CustomLogger):
        def __init__(self) -> None:
            super().__init__()
            self.costs: list[float | None] = []

        async def async_log_success_event(
            self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
        ) -> None:
            # Only this test's call: a logging thread of an earlier test's call in the same
            # worker process may report late, to whatever callback is registered by then.
            if MARKER in str(kwargs.get("messages")):
                self.costs.append(kwargs.get("response_cost"))

    return Recorder()


@pytest.mark.parametrize(
    "user_logger",
    [
        pytest.param(False, id="no litellm callback: no success logging"),
        pytest.param(True, id="a user's CustomLogger: still sees the call and its cost"),
    ],
)
async def test_success_logging_runs_only_for_a_registered_callback(
    stub: StubServer,
    success_handlers: list[str],
    monkeypatch: pytest.MonkeyPatch,
    user_logger: bool,
) -> None:
    import asyncio

    litellm = _litellm()
    recorder = _recording_logger()
    if user_logger:
        monkeypatch.setattr(litellm, "callbacks", [recorder])
    generation = await ModelGateway(MODEL, api_base=stub.api_base).complete("sentiment", MARKER)
    for _ in range(50):  # the handler is a task of its own: give it the chance to run
        await asyncio.sleep(0.02)
        if recorder.costs:
            break
    cost_in, cost_out = litellm.cost_per_token(
        model=MODEL, prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS
    )
    # The cost is litellm's price either way.
    assert generation.cost_usd == pytest.approx(cost_in + cost_out, rel=1e-12)
    assert (generation.tokens_in, generation.tokens_out) == (PROMPT_TOKENS, COMPLETION_TOKENS)
    assert len(success_handlers) == (1 if user_logger else 0)
    assert recorder.costs == ([pytest.approx(cost_in + cost_out, rel=1e-12)] if user_logger else [])


@pytest.mark.parametrize(
    ("setting", "value", "request_extra", "wanted"),
    [
        pytest.param(None, None, {}, False, id="nothing registered"),
        pytest.param("success_callback", ["langfuse"], {}, True, id="a success callback"),
        pytest.param("failure_callback", ["sentry"], {}, True, id="a failure callback"),
        pytest.param("_async_success_callback", [object()], {}, True, id="an async callback"),
        pytest.param("max_budget", 5.0, {}, True, id="litellm's own budget"),
        pytest.param(None, None, {"success_callback": ["x"]}, True, id="a per-call callback"),
        pytest.param(None, None, {"metadata": {"a": 1}}, False, id="metadata is not a callback"),
    ],
)
def test_logging_wanted(
    monkeypatch: pytest.MonkeyPatch,
    setting: str | None,
    value: object,
    request_extra: dict[str, object],
    wanted: bool,
) -> None:
    litellm = _litellm()
    if setting is not None:
        monkeypatch.setattr(litellm, setting, value)
    assert logging_wanted({"model": MODEL, **request_extra}) is wanted
