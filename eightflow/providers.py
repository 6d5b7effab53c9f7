"""The provider plug-in point: a plain object that answers chat requests.

A provider is any callable ``(ProviderRequest) -> str``. The gateway registers it in
litellm under a name (``local``, ``fake``, ...), so ``model="name/anything"`` routes to it
through the same code path as a hosted model: usage, cost, errors and traces included.
Raising :class:`ProviderFault` makes the gateway raise the matching litellm exception
(``RateLimitError``, ``Timeout``, ...), which is how tests script provider failures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class ProviderRequest:
    model: str
    messages: list[dict[str, Any]]
    schema: dict[str, Any] | None = None
    schema_name: str | None = None
    prompt_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def user_text(self) -> str:
        return next(
            (str(m.get("content", "")) for m in reversed(self.messages) if m.get("role") == "user"),
            "",
        )


class ProviderFault(Exception):
    """Raise from a provider to simulate a provider error by litellm class name."""

    def __init__(self, kind: str, message: str = "scripted provider fault") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class Provider(Protocol):
    def __call__(self, request: ProviderRequest) -> str: ...
