"""What a model string says without asking litellm: its provider, and whether it is free."""

from __future__ import annotations

#: Providers whose calls cost nothing: the embedded model, and answers replayed from the ledger.
FREE_PROVIDERS = ("local", "replay")


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"
