"""A scripted, queue-driven fake model for tests (after simonw/llm's ``enqueue``/``history``).

``fake = FakeModel().install()`` routes ``fake/...`` models to it through the real gateway
and litellm path. ``enqueue`` answers or faults in order: a string is the content, a dict
or pydantic object is JSON content, ``FakeModel.fault("RateLimitError")`` raises that litellm
error. With the queue empty it answers a valid instance of the requested schema (or "ok").
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

from pydantic import BaseModel

from eightflow.providers import ProviderFault, ProviderRequest


class FakeModel:
    def __init__(self, name: str = "fake", price: tuple[float, float] | None = None) -> None:
        self.name = name
        self.price = price
        self.queue: deque[Any] = deque()
        self.history: list[ProviderRequest] = []
        self._lock = threading.Lock()

    @staticmethod
    def fault(kind: str, message: str = "scripted fault") -> ProviderFault:
        return ProviderFault(kind, message)

    def enqueue(self, *responses: Any) -> FakeModel:
        self.queue.extend(responses)
        return self

    def install(self, models: tuple[str, ...] = ()) -> FakeModel:
        from eightflow.gateway import register_provider

        price = self.price or (None, None)
        register_provider(
            self.name,
            self,
            models=models or (f"{self.name}/model",),
            input_cost_per_token=price[0],
            output_cost_per_token=price[1],
        )
        return self

    def calls_for(self, prompt_id: str) -> list[ProviderRequest]:
        return [r for r in self.history if r.prompt_id == prompt_id]

    def __call__(self, request: ProviderRequest) -> str:
        with self._lock:
            self.history.append(request)
            item = self.queue.popleft() if self.queue else None
        if isinstance(item, ProviderFault):
            raise item
        if item is None:
            return self._default(request)
        if isinstance(item, BaseModel):
            return item.model_dump_json()
        if isinstance(item, dict | list):
            return json.dumps(item)
        return str(item)

    def _default(self, request: ProviderRequest) -> str:
        if request.schema is None:
            return "ok"
        from tests.support.schema_instance import instance_for_schema

        return json.dumps(instance_for_schema(request.schema, seed=request.user_text))
