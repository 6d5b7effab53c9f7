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


def litellm_start_keywords(fn: Callable[..., Any], args: tuple[Any, ...]) -> dict[str, Any] | None:
    """The keywords of ``completion`` when ``fn`` is what ``litellm.acompletion`` submits
    (``partial(ctx.run, partial(completion, **keywords))``); None for anything else."""
    if args or not isinstance(fn, partial) or len(fn.args) != 1 or fn.keywords:
        return None
    if not isinstance(getattr(fn.func, "__self__", None), contextvars.Context):
        return None
    inner = fn.args[0]
    if not isinstance(inner, partial) or inner.func is not _litellm_completion() or inner.args:
        return None
    return inner.keywords


def _settle(future: Future[Any], fn: Callable[[], Any]) -> None:
    try:
        future.set_result(fn())
    except BaseException as exc:  # as a worker thread would: the awaiting side raises it
        future.set_exception(exc)
        future = None  # type: ignore[assignment]  # the traceback keeps this frame, not it


class InlineStartExecutor(ThreadPoolExecutor):
    """A loop's default executor that runs litellm's exchange-path starts inline.

    ``inline_when`` sees the keywords of each ``completion`` start and says whether this one
    is the exchange path's own (see :func:`eightflow.gateway.exchange.inline_start_allowed`).

    A ``ThreadPoolExecutor`` because asyncio accepts nothing else as a default executor; its
    own pool is never used: other work goes to ``delegate``.
    """

    def __init__(
        self, delegate: ThreadPoolExecutor, inline_when: Callable[[dict[str, Any]], bool]
    ) -> None:
        super().__init__(max_workers=1)
        self._delegate = delegate
        self._inline_when = inline_when

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        keywords = None if kwargs else litellm_start_keywords(fn, args)
        if keywords is None or not self._inline_when(keywords):
            return self._delegate.submit(fn, *args, **kwargs)
        future: Future[Any] = Future()
        _settle(future, fn)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._delegate.shutdown(wait=wait, cancel_futures=cancel_futures)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


def install(loop: asyncio.AbstractEventLoop, inline_when: Callable[[dict[str, Any]], bool]) -> None:
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
