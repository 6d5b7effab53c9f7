"""litellm's synchronous start of an exchange-path call, run on the event loop's own thread.

``litellm.acompletion`` runs ``litellm.completion(...)`` in the loop's default executor and
awaits what it returns. For the calls :mod:`eightflow.gateway.exchange` sends (the OpenAI
SDK, a base URL the operator set, chat completions) that is a coroutine, built from the
request without any I/O: the hop to a worker thread and back (a wake-up on each side, the
GIL handed over twice, a future chained across threads) was about 5% of a batch's CPU in a
py-spy profile, for work that never blocks.

:class:`InlineStartExecutor` becomes the loop's default executor the first time the
exchange path runs on it. It runs exactly those ``completion`` calls where they are
submitted, while an exchange is current, and hands everything else to the executor the
loop had (or a thread pool like asyncio's own), so any other ``run_in_executor(None, ...)``
or ``asyncio.to_thread`` still runs on a thread. Every other provider keeps litellm's hop:
their synchronous half may block (credentials refreshed over HTTP, providers without an
async client).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any


def _litellm_completion() -> Any:
    import litellm.main

    return litellm.main.completion


def is_litellm_start(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    """``fn`` is what ``litellm.acompletion`` submits: ``partial(ctx.run, partial(completion))``."""
    if args or not isinstance(fn, partial) or len(fn.args) != 1 or fn.keywords:
        return False
    if not isinstance(getattr(fn.func, "__self__", None), contextvars.Context):
        return False
    inner = fn.args[0]
    return isinstance(inner, partial) and inner.func is _litellm_completion()


class InlineStartExecutor(ThreadPoolExecutor):
    """A loop's default executor that runs litellm's exchange-path starts inline.

    A ``ThreadPoolExecutor`` because asyncio accepts nothing else as a default executor; its
    own pool is never used: other work goes to ``delegate``.
    """

    def __init__(self, delegate: ThreadPoolExecutor, inline_when: Callable[[], bool]) -> None:
        super().__init__(max_workers=1)
        self._delegate = delegate
        self._inline_when = inline_when

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if kwargs or not is_litellm_start(fn, args) or not self._inline_when():
            return self._delegate.submit(fn, *args, **kwargs)
        future: Future[Any] = Future()
        try:
            result = fn()
        except BaseException as exc:  # as a worker thread would: the awaiting side raises it
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._delegate.shutdown(wait=wait, cancel_futures=cancel_futures)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


def install(loop: asyncio.AbstractEventLoop, inline_when: Callable[[], bool]) -> None:
    """Make ``loop``'s default executor an :class:`InlineStartExecutor` (once per loop).

    Only on asyncio's own loops, whose default executor is the attribute read here; any
    other loop keeps litellm's hop.
    """
    if not isinstance(loop, asyncio.BaseEventLoop):
        return
    current = getattr(loop, "_default_executor", None)
    if isinstance(current, InlineStartExecutor):
        return
    if not isinstance(current, ThreadPoolExecutor):
        current = ThreadPoolExecutor(thread_name_prefix="asyncio")  # as asyncio makes it
    loop.set_default_executor(InlineStartExecutor(current, inline_when))
