"""A batch sink that keeps every row it is given, for tests that read a batch's rows."""

from __future__ import annotations

from eightflow.batch.models import BatchSummary, DocumentOutcome


class Rows:
    def __init__(self) -> None:
        self.rows: list[DocumentOutcome] = []

    def write(self, outcome: DocumentOutcome) -> None:
        self.rows.append(outcome)

    def close(self, summary: BatchSummary) -> None:
        pass
