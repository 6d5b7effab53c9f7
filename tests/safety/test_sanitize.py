"""The one sanitizer: secrets always redacted, PII only on request, long text truncated."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eightflow.safety import sanitize as sanitize_module
from eightflow.safety.sanitize import REDACTED, sanitize, sanitize_text

OPENAI = "sk-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" + "AbCdEfGh"
OPENAI_PROJECT = "sk-proj-" + "Q1w2E3r4T5y6U7i8O9p0" * 3
ANTHROPIC = "sk-ant-api03-" + "Zx9Cv8Bn7Mm6" * 4
AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2
BEARER = "eyJhbGciOiJIUzI1NiJ9abcdef0123456789"
SERVICE_TOKEN = "svc-9f8e7d6c5b4a-internal"


def _forget_env_cache() -> None:
    # The sanitizer caches secret env values briefly; each test starts from the real env.
    if hasattr(sanitize_module, "_ENV_CACHE"):
        sanitize_module._ENV_CACHE = (0.0, -1, [])


@pytest.fixture(autouse=True)
def service_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MY_SERVICE_TOKEN", SERVICE_TOKEN)
    monkeypatch.delenv("EIGHTFLOW_REDACT_PII", raising=False)
    _forget_env_cache()
    yield SERVICE_TOKEN
    monkeypatch.undo()
    _forget_env_cache()


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param(f"key={OPENAI} end", OPENAI, id="openai sk-"),
        pytest.param(f"use {OPENAI_PROJECT}", OPENAI_PROJECT, id="openai sk-proj-"),
        pytest.param(f"anthropic: {ANTHROPIC}.", ANTHROPIC, id="anthropic sk-ant-"),
        pytest.param(f"aws id {AWS} here", AWS, id="aws AKIA"),
        pytest.param(f"token {GITHUB}", GITHUB, id="github ghp_"),
        pytest.param(f"sent Bearer {BEARER} to the API", BEARER, id="bearer"),
        pytest.param(f"header bearer {BEARER}", BEARER, id="bearer lowercase"),
        pytest.param(f"Authorization: Basic {BEARER}", BEARER, id="authorization basic"),
        pytest.param(
            "Authorization: opaque-value-42", "opaque-value-42", id="authorization header"
        ),
        pytest.param('{"authorization": "s3cr3t-v4lue"}', "s3cr3t-v4lue", id="authorization json"),
        pytest.param("x-api-key: abcdef123456", "abcdef123456", id="x-api-key header"),
        pytest.param(f"the service said {SERVICE_TOKEN}!", SERVICE_TOKEN, id="env var value"),
        pytest.param(f"{SERVICE_TOKEN}{SERVICE_TOKEN}", SERVICE_TOKEN, id="env var value twice"),
        pytest.param(f"multi\nline {OPENAI}\nkey", OPENAI, id="multi-line"),
    ],
)
def test_secrets_are_redacted(text: str, secret: str) -> None:
    clean = sanitize_text(text, limit=None)
    assert secret not in clean
    assert REDACTED in clean
    # Nothing of the secret's distinctive middle survives either.
    assert secret[len(secret) // 3 : 2 * len(secret) // 3] not in clean


def test_redaction_keeps_the_surrounding_text() -> None:
    assert sanitize_text(f"before {OPENAI} after", limit=None) == f"before {REDACTED} after"
    assert sanitize_text("Authorization: Bearer abcdefghijklmnop", limit=None) == (
        f"Authorization: {REDACTED}"
    )


def test_env_var_set_after_import_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    late = "late-secret-value-123"
    assert sanitize_text(late) == late
    monkeypatch.setenv("ANOTHER_PASSWORD", late)
    assert sanitize_text(late) == REDACTED


def test_rotated_env_var_value_is_caught_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sanitize_text(f"old {SERVICE_TOKEN}") == f"old {REDACTED}"  # primes the cache
    rotated = "svc-rotated-0a1b2c3d4e5f"
    monkeypatch.setenv("MY_SERVICE_TOKEN", rotated)  # same number of env vars
    assert sanitize_text(f"new {rotated}") == f"new {REDACTED}"


@pytest.mark.parametrize(
    "text",
    [
        "sk-short",  # too short to be a key
        "ask-me-anything about skis",
        "AKIA is a prefix",
        "the bearer of bad news",
        "gh_ not a token",
        "plain text with a number 12345",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert sanitize_text(text, limit=None) == text


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abcdef", 3, "abc… [3 more chars]"),
        ("abcdef", 6, "abcdef"),
        ("x" * 2500, None, "x" * 2500),
        ("", 3, ""),
    ],
)
def test_truncation(text: str, limit: int | None, expected: str) -> None:
    assert sanitize_text(text, limit=limit) == expected


def test_default_limit_is_2000() -> None:
    out = sanitize_text("y" * 2100)
    assert out.startswith("y" * 2000) and out.endswith("… [100 more chars]")


def test_truncation_happens_after_redaction() -> None:
    # A key straddling the limit must not survive as a prefix that escaped the pattern.
    text = "a" * 10 + OPENAI
    out = sanitize_text(text, limit=20)
    assert OPENAI[:10] not in out and out.startswith("a" * 10 + REDACTED[:10])


PII = "Mail jane.doe@example.com or call +44 20 7946 0958 today."


@pytest.mark.parametrize(
    ("redact_pii", "env", "redacted"),
    [
        (True, None, True),
        (False, None, False),
        (None, None, False),
        (None, "1", True),
        (False, "1", False),
    ],
)
def test_pii_only_on_request(
    monkeypatch: pytest.MonkeyPatch, redact_pii: bool | None, env: str | None, redacted: bool
) -> None:
    if env is not None:
        monkeypatch.setenv("EIGHTFLOW_REDACT_PII", env)
    out = sanitize_text(PII, redact_pii=redact_pii)
    if redacted:
        assert out == "Mail [EMAIL] or call [PHONE] today."
    else:
        assert out == PII


def test_sanitize_walks_structures() -> None:
    data = {
        "api_key": "anything-at-all",
        "nested": [{"text": f"see {OPENAI}"}, ("t", GITHUB)],
        "n": 3,
        "ok": True,
        "none": None,
        "long": "z" * 50,
    }
    out = sanitize(data, limit=10)
    assert out["api_key"] == REDACTED  # secret-looking key names hide the value
    assert out["nested"][0]["text"].startswith("see [REDAC")
    assert out["nested"][1] == ["t", REDACTED]
    assert (out["n"], out["ok"], out["none"]) == (3, True, None)
    assert out["long"] == "z" * 10 + "… [40 more chars]"


def test_sanitize_pydantic_and_other_objects() -> None:
    from pydantic import BaseModel

    class Creds(BaseModel):
        user: str
        note: str

    out = sanitize(Creds(user="u", note=f"key {OPENAI}"))
    assert out == {"user": "u", "note": f"key {REDACTED}"}

    class Thing:
        def __repr__(self) -> str:
            return f"Thing({OPENAI})"

    assert sanitize(Thing()) == f"Thing({REDACTED})"
