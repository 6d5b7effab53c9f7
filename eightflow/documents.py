"""What a loaded document is, independent of the file format it came from.

Loaders in ``tasks/loading`` produce these; the engine only ever sees this model, so the
ledger, the cache key (``sha256``) and results tables do not care about PDF versus DOCX.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Document(BaseModel):
    """A document's text plus the facts about its file that results and caches need."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(
        description="Stable id: the path relative to the batch root (or the file name)."
    )
    path: str = Field(description="Absolute path of the file it was read from.")
    sha256: str = Field(description="sha256 of the file's bytes: the cache key's document part.")
    size_bytes: int
    media_type: str = Field(description="e.g. text/plain, text/html, application/pdf")
    loader: str = Field(description="Which loader read it, e.g. 'pdf:pypdf'.")
    title: str | None = None
    text: str
    chars: int
    pages: int | None = None
    encoding: str | None = Field(default=None, description="Detected encoding for text files.")

    @classmethod
    def from_text(cls, text: str, *, id: str = "inline", title: str | None = None) -> Document:
        """A document made in code (tests, API callers) rather than read from a file."""
        import hashlib

        data = text.encode("utf-8")
        return cls(
            id=id,
            path="",
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            media_type="text/plain",
            loader="inline",
            title=title,
            text=text,
            chars=len(text),
        )
