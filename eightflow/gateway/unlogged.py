"""litellm calls without litellm's success logging, when nothing would receive it.

After every answer litellm schedules a success handler on the event loop: it builds a
standard logging payload (messages, usage, a cost breakdown, metadata) and hands it to the
callbacks registered with litellm. eightflow registers none: its trace, ledger and cost
come from the gateway itself (:mod:`eightflow.gateway.call`). So for eightflow's calls
that handler built a payload for no one, about 5% of the gateway's CPU per call
(``bench/gateway_call.py``; see docs/benchmarks.md).

litellm's own switch for "a call whose logging someone else does" is its internal
sub-call context (``litellm._internal_context.internal_sub_call``): the call is made, its
response and ``_hidden_params`` (``response_cost`` included) are what they are, and the
success and failure callbacks do not run. It is used only while no litellm callback is
registered, no litellm-wide budget is set, and the request names no callbacks of its own:
a user who registers a ``litellm.CustomLogger`` still sees every call. Should a litellm
release drop the switch, calls go through the ordinary path.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import litellm


def _internal_switch() -> Callable[[], AbstractContextManager[None]] | None:
    """litellm's internal sub-call context; None in a release that drops it."""
    try:
        from litellm._internal_context import internal_sub_call
    except ImportError:  # pragma: no cover - depends on the installed litellm
        return None
    return internal_sub_call


_quiet = _internal_switch()

# Every litellm-wide list of callbacks a call's logging object would serve.
_CALLBACK_LISTS = (
    "callbacks",
    "success_callback",
    "_async_success_callback",
    "failure_callback",
    "_async_failure_callback",
    "input_callback",
    "_async_input_callback",
    "service_callback",
    "audit_log_callbacks",
)
# Request keys that add callbacks for one call.
_REQUEST_CALLBACKS = ("callbacks", "success_callback", "failure_callback", "logger_fn")


def logging_wanted(request: dict[str, Any]) -> bool:
    """True when litellm's logging of this call would reach anyone (or litellm's own budget)."""
    if getattr(litellm, "max_budget", 0):
        return True  # litellm counts spend against it in the success handler
    if any(getattr(litellm, name, None) for name in _CALLBACK_LISTS):
        return True
    return any(request.get(key) for key in _REQUEST_CALLBACKS)


async def acompletion(**request: Any) -> Any:
    """``litellm.acompletion(**request)``, without the success logging no one receives."""
    if _quiet is None or logging_wanted(request):
        return await litellm.acompletion(**request)
    with _quiet():
        return await litellm.acompletion(**request)


_BANNER_SILENCED = False


def silence_error_banner() -> None:
    """Stop litellm printing a "Give Feedback / Get Help" banner to stdout on each error.

    litellm has no per-call switch for it: its exception mapper reads the module global
    ``litellm.suppress_debug_info``. So it is set here, once, when the first gateway is
    made, rather than as a side effect of importing eightflow.
    """
    global _BANNER_SILENCED
    if not _BANNER_SILENCED:
        litellm.suppress_debug_info = True
        _BANNER_SILENCED = True
