"""A logging handler that keeps the formatted messages of WARNING and above.

For tests that check what a warning says (and that a secret is not in it) on loggers
that do not propagate to pytest's ``caplog`` (Prefect's run loggers among them).
"""

from __future__ import annotations

import logging


class WarningLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
