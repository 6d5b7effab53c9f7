"""Output schemas of the triage steps and of their prompts.

Prompts name these in their front matter (``output: ActionItems``, registered under the
``eightflow.schemas`` entry points in pyproject.toml); the gateway sends them as the
response format and validates every answer, whether a hosted model or the embedded one
gave it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

LegalKind = Literal["licence", "contract", "policy", "terms", "other"]


class Table(BaseModel):
    columns: list[str] = Field(description="The header row's cells.")
    rows: list[list[str]] = Field(default_factory=list, description="The data rows' cells.")


class ActionItem(BaseModel):
    action: str = Field(description="What is to be done, as an imperative phrase.")
    owner: str | None = Field(default=None, description="Who does it, as written.")
    due: str | None = Field(default=None, description="When it is due, as written.")


class ActionItems(BaseModel):
    items: list[ActionItem] = Field(default_factory=list)


class Language(BaseModel):
    code: str = Field(description="ISO 639-1 code (en, fr, de, ...), or 'und' if unsure.")
    confidence: float = Field(ge=0, le=1)
    english: bool


class LegalClassification(BaseModel):
    kind: LegalKind = Field(description="licence, contract, policy, terms, or other.")
    confidence: float = Field(ge=0, le=1)
    skip_deep_analysis: bool = Field(
        description="True for legal text, whose summary or entities would add little."
    )


class FaqPair(BaseModel):
    question: str
    answer: str


class FaqPairs(BaseModel):
    pairs: list[FaqPair] = Field(default_factory=list)
