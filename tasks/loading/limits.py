"""Resource limits for loading one document.

Documents come from users' folders, so any of them may be hostile or simply broken: a
300 MB log renamed ``.txt``, a 40,000-page PDF export, a DOCX that is a zip bomb. Every
loader checks these limits *before* doing the expensive part, so that one bad file fails
with a clear reason instead of exhausting the worker's memory and taking the batch down.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MiB = 1024 * 1024


class LoadLimits(BaseModel):
    """Upper bounds a file must respect to be loaded. Frozen so it can be shared safely.

    The defaults fit ordinary business documents with wide margins; tests and callers with
    tighter memory lower them (``LoadLimits(max_bytes=1024)``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_bytes: int = Field(
        default=50 * MiB, gt=0, description="Largest file size read from disk, in bytes."
    )
    max_pages: int = Field(default=2_000, gt=0, description="Most pages a PDF may have.")
    max_chars: int = Field(
        default=5_000_000,
        gt=0,
        description="Longest extracted text, in characters; longer documents are rejected.",
    )
    max_unpacked_bytes: int = Field(
        default=200 * MiB,
        gt=0,
        description="Largest total uncompressed size of a DOCX (zip) archive.",
    )
    max_zip_members: int = Field(
        default=10_000, gt=0, description="Most members a DOCX (zip) archive may hold."
    )
    max_zip_ratio: float = Field(
        default=100.0,
        gt=0,
        description="Highest compression ratio allowed for a large zip member.",
    )
    zip_ratio_min_bytes: int = Field(
        default=10 * MiB,
        ge=0,
        description=(
            "Members smaller than this (uncompressed) are exempt from the ratio check: "
            "small XML parts legitimately compress very well."
        ),
    )
