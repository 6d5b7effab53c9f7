"""litellm's synchronous start runs on the loop's thread on the exchange path, only there."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from eightflow.gateway import ModelGateway, exchange, inline_start
from eightflow.gateway.inline_start import (
    InlineStartExecutor,
    install,
    litellm_start_keywords,
)
from eightflow.runtime.limiter import CallLimiter
from tests.support.stub_server import StubConfig, StubServer

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch, home: object) -> Iterator[StubServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "i" * 32)
    with StubServer(StubConfig(prompt_tokens=9, completion_tokens=4)) as server:
        yield server


@pytest.mark.parametrize(
    ("exchange_path", "on_the_loop_thread"),
    [
        pytest.param(True, True, id="exchange path: no hop to a worker thread"),
        pytest.param(False, False, id="any other call: litellm's own hop"),
    ],
)
async def test_where_litellms_synchronous_start_runs(
    stub: StubServer, monkeypatch: pytest.MonkeyPatch, exchange_path: bool, on_the_loop_thread: bool
) -> None:
    import litellm.main

    threads: list[threading.Thread] = []
    completion = litellm.main.completion

    def spy(*args: Any, **kwargs: Any) -> Any:  # what acompletion submits to the executor
        threads.append(threading.current_thread())
        return completion(*args, **kwargs)

    monkeypatch.setattr(litellm.main, "completion", spy)
    if not exchange_path:
        monkeypatch.setattr(exchange, "applies", lambda model, request: False)
    generation = await ModelGateway(MODEL, api_base=stub.api_base).complete("sentiment", "calm")
    assert (generation.tokens_in, generation.tokens_out) == (9, 4)
    assert len(threads) == 1
    assert all((t is threading.current_thread()) is on_the_loop_thread for t in threads)


async def test_on_one_loop_only_the_exchange_paths_start_skips_the_hop(
    stub: StubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import litellm.main

    threads: list[threading.Thread] = []
    completion = litellm.main.completion

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return completion(*args, **kwargs)

    monkeypatch.setattr(litellm.main, "completion", spy)
    gateway = ModelGateway(MODEL, api_base=stub.api_base)
    await gateway.complete("sentiment", "first")  # installs the executor on this loop
    monkeypatch.setattr(exchange, "applies", lambda model, request: False)
    await gateway.complete("sentiment", "second")  # the same loop, not the exchange path
    assert [t is threading.current_thread() for t in threads] == [True, False]


async def test_other_work_still_runs_on_a_thread_of_the_executor_the_loop_had() -> None:
    loop = asyncio.get_running_loop()
    await asyncio.to_thread(lambda: None)  # the loop's own default executor, made by asyncio
    had = loop._default_executor  # type: ignore[attr-defined]
    install(loop, lambda: True)
    install(loop, lambda: True)  # once per loop
    assert isinstance(loop._default_executor, InlineStartExecutor)  # type: ignore[attr-defined]
    assert loop._default_executor._delegate is had  # type: ignore[attr-defined]
    ran_on = await asyncio.to_thread(threading.current_thread)
    assert ran_on is not threading.current_thread() and ran_on.name.startswith("asyncio")


def test_the_delegate_is_shut_down_with_the_loop() -> None:
    seen: list[Any] = []

    async def main() -> None:
        install(asyncio.get_running_loop(), lambda: True)
        await asyncio.to_thread(lambda: None)
        seen.append(asyncio.get_running_loop()._default_executor._delegate)  # type: ignore[attr-defined]

    asyncio.run(main())
    assert seen[0]._shutdown  # asyncio.run shut the default executor down, and so its pool


def _start(func: Any, **kwargs: Any) -> Any:
    """What ``litellm.acompletion`` submits to the executor."""
    return partial(contextvars.copy_context().run, partial(func, **kwargs))


def test_which_submissions_are_litellms_start() -> None:
    import litellm.main

    assert litellm_start_keywords(_start(litellm.main.completion, model=MODEL), ()) == {
        "model": MODEL
    }
    assert litellm_start_keywords(_start(print), ()) is None
    assert litellm_start_keywords(partial(litellm.main.completion, model=MODEL), ()) is None
    assert litellm_start_keywords(_start(litellm.main.completion), ("an extra argument",)) is None
    assert litellm_start_keywords(print, ()) is None


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "when not allowed"])
def test_a_start_that_raises_reaches_the_awaiting_side(
    monkeypatch: pytest.MonkeyPatch, inline: bool
) -> None:
    import litellm.main

    ran_on: list[threading.Thread] = []

    def failing_start(**keywords: Any) -> Any:
        ran_on.append(threading.current_thread())
        raise ValueError("bad request")

    monkeypatch.setattr(litellm.main, "completion", failing_start)
    delegate = ThreadPoolExecutor(max_workers=1, thread_name_prefix="delegate")
    executor = InlineStartExecutor(delegate, lambda keywords: inline)
    try:
        future = executor.submit(_start(failing_start, model=MODEL, acompletion=True))
        assert isinstance(future.exception(timeout=30), ValueError)
    finally:
        executor.shutdown()
    assert (ran_on == [threading.current_thread()]) is inline
    assert delegate._shutdown


def _exchange_with(client: object) -> exchange.Exchange:
    async def reserve() -> Any:
        raise AssertionError("not reached")

    entry = exchange.Exchange(CallLimiter(1), MODEL, 0, reserve)
    entry.client = client
    return entry


@pytest.mark.parametrize(
    ("change", "allowed"),
    [
        pytest.param({}, True, id="the exchange's own start"),
        pytest.param({"acompletion": None}, False, id="a synchronous completion"),
        pytest.param({"client": object()}, False, id="another client"),
        pytest.param({"model": "openai/gpt-4o"}, False, id="another model"),
        pytest.param({"proxy_auth": object()}, False, id="litellm's proxy auth (token fetch)"),
        pytest.param({"secret_manager_client": object()}, False, id="a secret manager"),
        pytest.param({"no_exchange": True}, False, id="outside an exchange"),
    ],
)
def test_which_starts_may_run_inline(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], allowed: bool
) -> None:
    import litellm

    client = object()
    keywords: dict[str, Any] = {"model": MODEL, "acompletion": True, "client": client}
    for name in ("proxy_auth", "secret_manager_client"):
        if name in change:
            monkeypatch.setattr(litellm, name, change.pop(name), raising=False)
    no_exchange = change.pop("no_exchange", False)
    keywords.update(change)
    entry = _exchange_with(client)
    token = exchange._current.set(None if no_exchange else entry)
    try:
        assert exchange.inline_start_allowed(keywords) is allowed
        assert exchange.inline_start_allowed(keywords) is False  # at most once per call
    finally:
        exchange._current.reset(token)


def test_only_asyncios_own_loops_get_it() -> None:
    class OtherLoop:  # e.g. uvloop: its default executor is not an attribute read here
        def set_default_executor(self, executor: object) -> None:
            raise AssertionError("not to be replaced")

    inline_start.install(OtherLoop(), lambda: True)  # type: ignore[arg-type]
