"""The writers' memoized sanitizer gives exactly what ``sanitize`` gives, repeats included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eightflow.runtime.records import StepRecord
from eightflow.safety import sanitize as sanitize_module
from eightflow.safety.sanitize import REDACTED, register_secret, sanitize
from eightflow.safety.sanitize_memo import MAX_MEMO_LEN, SanitizeMemo

SECRET = "sk-" + "a1B2c3D4e5F6g7H8i9J0"
VALUES = [
    "completed",
    "summarize",
    "",
    "x" * (MAX_MEMO_LEN + 50),
    f"key {SECRET} here",
    {"api_key": "plain-value-123", "step": "entities", "nested": {"token": 5, "a": ["b", 1]}},
    {"document": "docs/a.txt", "calls": [{"attempt": 1, "error_type": None, "cache_hit": True}]},
    ["t"] * 150,
    {"d": {"d": {"d": {"d": {"d": {"d": {"d": {"d": "deep"}}}}}}}},
    ("tuple", 2.5, False, None),
    StepRecord(name="summary", status="completed", started=datetime(2026, 1, 1, tzinfo=UTC)),
    datetime(2026, 1, 1, tzinfo=UTC),
    "mail me at someone@example.com or +1 555 123 4567",
]


@pytest.fixture(autouse=True)
def _fresh_sanitizer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sanitize_module, "_REGISTERED", set())


@pytest.mark.parametrize("limit", [None, 500, 10])
def test_same_as_sanitize_first_time_and_repeated(limit: int | None) -> None:
    memo = SanitizeMemo()
    for _round in range(2):
        for value in VALUES:
            assert memo(value, limit=limit) == sanitize(value, limit=limit)


def test_secret_in_environment_after_a_string_was_memoized_is_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    memo = SanitizeMemo()
    text = "value is Zq9rT4wLx8"
    assert memo(text, limit=None) == text
    monkeypatch.setenv("MY_SERVICE_TOKEN", "Zq9rT4wLx8")
    assert memo(text, limit=None) == f"value is {REDACTED}" == sanitize(text, limit=None)


def test_secret_registered_after_a_string_was_memoized_is_redacted() -> None:
    memo = SanitizeMemo()
    text = "block secret Pq7Ws2Lm9Xv"
    assert memo(text, limit=None) == text
    register_secret("Pq7Ws2Lm9Xv")
    assert memo(text, limit=None) == f"block secret {REDACTED}"


def test_turning_pii_redaction_on_applies_to_memoized_strings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    memo = SanitizeMemo()
    text = "someone@example.com"
    monkeypatch.setenv("EIGHTFLOW_REDACT_PII", "false")
    assert memo(text, limit=None) == text
    monkeypatch.setenv("EIGHTFLOW_REDACT_PII", "true")
    assert memo(text, limit=None) == sanitize(text, limit=None) == "[EMAIL]"


def test_a_memo_used_before_its_first_refresh_still_knows_the_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EIGHTFLOW_TEST_VAULT_TOKEN", "Vq8Lm3Zr7Tn2Wx")
    memo = SanitizeMemo()
    assert memo.text("the token is Vq8Lm3Zr7Tn2Wx", 500) == "the token is [REDACTED]"
