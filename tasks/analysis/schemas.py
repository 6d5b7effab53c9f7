"""Output schemas of the analysis prompts.

Prompts name these in their front matter (``output: tasks.analysis.schemas:Summary``); the
gateway sends them as the response format and validates answers against them, whether
the answer comes from a hosted model or the embedded one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

EntityType = Literal["person", "organization", "place", "date", "amount", "email", "url"]


class Summary(BaseModel):
    summary: str = Field(description="A faithful summary of the document in 1-3 sentences.")
    key_points: list[str] = Field(default_factory=list, description="The main points, short.")


class Keyphrase(BaseModel):
    phrase: str
    score: float = Field(ge=0, le=1, description="Relevance, higher is more relevant.")


class Topics(BaseModel):
    topics: list[str] = Field(description="3-7 short topic labels, most important first.")
    keyphrases: list[Keyphrase] = Field(default_factory=list)


CONFIDENCE = (
    "How sure you are of this answer, from 0 (a guess) to 1 (certain). "
    "A review rule may send answers below a threshold to a person."
)


class Sentiment(BaseModel):
    label: Literal["positive", "negative", "neutral"]
    score: float = Field(ge=-1, le=1, description="-1 very negative .. 1 very positive.")
    confidence: float | None = Field(default=None, ge=0, le=1, description=CONFIDENCE)


class Entity(BaseModel):
    text: str
    type: EntityType
    count: int = Field(default=1, ge=1)
    confidence: float | None = Field(default=None, ge=0, le=1, description=CONFIDENCE)


class Entities(BaseModel):
    entities: list[Entity] = Field(default_factory=list)
