# ruff: noqa: E501
"""Attack: secrets in common shapes pass the sanitizer, keys from the key file are never
registered with it, and ``excerpt()`` truncates before it redacts."""

from __future__ import annotations

from typing import Any

import pytest

from eightflow import sanitize as sanitize_module
from eightflow.sanitize import REDACTED, excerpt, register_secret, sanitize, sanitize_text

A40 = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
HEX32 = "3f9a1c0b7e2d4a6f8b1c9d0e2f3a4b5c"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7vbqajDw4o6gJy8UtmIbkcpnkO3Kwc4qsEnSZp/TR+fQi\n"
    "q6j8x3Yc0f9zRk2lMeB4p1wT5uWvXyZ0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2yZ3\n"
    "-----END RSA PRIVATE KEY-----"
)
SHAPES: list[tuple[str, str, str]] = [
    # (id, text, the secret that must not survive)
    ("openai", "key sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAbCd", "Ab3dEf6hIj9kLm2nOp5qRs8t"),
    ("openai project", "sk-proj-" + "Q1w2E3r4T5y6U7i8O9p0" * 3, "Q1w2E3r4T5y6U7i8O9p0"),
    ("anthropic", "sk-ant-api03-" + "Zx9Cv8Bn7Mm6" * 4, "Zx9Cv8Bn7Mm6Zx9C"),
    ("openrouter", "sk-or-v1-" + "a1b2c3d4" * 8, "a1b2c3d4a1b2c3d4"),
    ("stripe live", "charge with sk_live_51HxYzAbCdEfGhIjKlMnOpQr", "51HxYzAbCdEfGhIjKlMnOpQr"),
    ("stripe test", "rk_test_51HxYzAbCdEfGhIjKlMnOpQr", "51HxYzAbCdEfGhIjKlMnOpQr"),
    ("stripe webhook", "whsec_" + "b" * 32, "b" * 32),
    ("aws key id", "AKIAIOSFODNN7EXAMPLE in the file", "AKIAIOSFODNN7EXAMPLE"),
    ("aws session id", "ASIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE"),
    ("aws secret env form", f"AWS_SECRET_ACCESS_KEY={A40}", A40),
    ("aws secret ini form", f"aws_secret_access_key = {A40}", A40),
    ("azure 32 hex", f"the Azure key is {HEX32}", HEX32),
    ("azure header", f"api-key: {HEX32}", HEX32),
    ("azure apim", "Ocp-Apim-Subscription-Key: 0123abcd0123abcd", "0123abcd0123abcd"),
    (
        "azure storage",
        "DefaultEndpointsProtocol=https;AccountKey=abc+def/ghi==;Endpoint",
        "abc+def/ghi==",
    ),
    ("azure sas", "https://x.blob.core.windows.net/c?sv=2020&sig=AbCdEf%2Bgh123", "AbCdEf%2Bgh123"),
    ("google api key", "AIza" + "S" * 35, "S" * 35),
    ("google oauth", "ya29.a0AfH6SMBx" + "y" * 30, "y" * 30),
    ("github classic", "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2, "a1B2c3D4e5F6g7H8i9J0"),
    ("github fine-grained", "github_pat_" + "11ABCDEFG0" * 5, "11ABCDEFG011ABCDEFG0"),
    ("gitlab", "glpat-" + "x1Y2z3W4v5U6t7S8r9Q0", "x1Y2z3W4v5U6t7S8r9Q0"),
    ("slack token", "xoxb-1234567890-abcdefghijkl", "1234567890-abcdefghijkl"),
    ("slack webhook", "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX", "XXXXXXXXXXXX"),
    ("hugging face", "hf_" + "Q" * 34, "Q" * 34),
    ("groq", "gsk_" + "R" * 40, "R" * 40),
    ("prefect cloud", "pnu_" + "P" * 36, "P" * 36),
    ("xai", "xai-" + "X9" * 20, "X9" * 20),
    ("replicate", "r8_" + "Rr" * 20, "Rr" * 20),
    ("npm", "npm_" + "N1" * 18, "N1" * 18),
    ("pypi", "pypi-AgEIcHlwaS5vcmc" + "p" * 60, "p" * 60),
    ("sendgrid", "SG." + "s" * 22 + "." + "t" * 43, "t" * 43),
    ("databricks", "dapi" + "0a" * 16, "0a" * 16),
    ("telegram bot", "bot 123456789:AA" + "h" * 33, "h" * 33),
    (
        "jwt",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36",
        "SflKxwRJSMeKKF2QT4fwpMeJf36",
    ),
    ("pem private key", f"cert:\n{PEM}\nend", "MIIEowIBAAKCAQEA7vbqajDw4o6gJy8U"),
    ("pem unterminated", PEM.split("-----END")[0], "MIIEowIBAAKCAQEA7vbqajDw4o6gJy8U"),
    (
        "openssh key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
    ),
    ("postgres url", "postgresql://app:hunter2pass@db.internal:5432/prod", "hunter2pass"),
    ("asyncpg url", "postgresql+asyncpg://eightflow:s3cretpw@127.0.0.1/x", "s3cretpw"),
    ("redis url", "redis://:r3d1spass@cache:6379/0", "r3d1spass"),
    ("https basic url", "https://user:p4ssw0rd@example.com/path", "p4ssw0rd"),
    ("python repr single quotes", "{'api_key': 'abcdefgh12345'}", "abcdefgh12345"),
    ("json double quotes", '{"api_key": "abcdefgh12345"}', "abcdefgh12345"),
    ("json client secret", '{"client_secret": "cs-0987zyxw"}', "cs-0987zyxw"),
    ("env password", "DB_PASSWORD=Tr0ub4dor3", "Tr0ub4dor3"),
    ("yaml token", "auth_token: tok3n-value-99", "tok3n-value-99"),
    ("kwarg repr", "Client(api_key='zz-Secret-77', timeout=3)", "zz-Secret-77"),
    ("bearer header", "Authorization: Bearer abcdef123456ghijkl", "abcdef123456ghijkl"),
    ("bearer lowercase", "sent bearer abcdef123456ghijkl", "abcdef123456ghijkl"),
    ("basic header", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
    ("x-api-key header", "x-api-key: abcdef123456", "abcdef123456"),
]


def test_the_table_is_large_enough() -> None:
    assert len(SHAPES) >= 30


@pytest.mark.parametrize(("text", "secret"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_secret_shapes_are_redacted(text: str, secret: str) -> None:
    clean = sanitize_text(text, limit=None)
    assert secret not in clean and REDACTED in clean


@pytest.mark.parametrize(
    "text",
    ["tokens_in: 1234567", "max_tokens: 400", "the author: Shakespeare", "secretary: Johnathan",
     "prompt hash 3f9a1c0b7e2d", "run 5e1f0a2b3c4d5e6f", "see https://example.com/a:b"],
)  # fmt: skip
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert sanitize_text(text, limit=None) == text


async def test_keys_read_from_the_key_file_are_registered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from eightflow.gateway import keys

    value = "opaque-file-value-without-a-known-shape"
    monkeypatch.setenv("EIGHTFLOW_HOME", str(tmp_path))
    key_file = tmp_path / keys.KEYS_FILE
    key_file.write_text(f"ACME_API_KEY={value}\n")
    key_file.chmod(0o600)
    monkeypatch.delenv("ACME_API_KEY", raising=False)
    monkeypatch.setattr(keys, "_FILE_CACHE", {})
    monkeypatch.setattr(sanitize_module, "_REGISTERED", set())
    assert value in sanitize_text(f"x {value} y")  # not a known shape by itself
    assert await keys.provider_key("acme/model") == value
    assert value not in sanitize_text(f"x {value} y")
    assert value not in str(sanitize({"note": f"said {value}"}))


def test_register_secret_ignores_short_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sanitize_module, "_REGISTERED", set())
    register_secret("abc")
    assert sanitize_text("abc abc") == "abc abc"


@pytest.mark.parametrize("gap", [" " * 900, "\n" * 900, "\t \n" * 300])
def test_excerpt_redacts_before_it_truncates(gap: str) -> None:
    key = "sk-" + "Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1"
    # Whitespace collapses, so the key lands inside the first 300 characters.
    for cut in range(2, len(key)):
        text = "word" + gap + "x" * (600 - cut) + key
        assert key[:12] not in excerpt(text), cut
        assert key[:12] not in excerpt({"document": text}), cut


# -- the needle prefilter (the hot path skips a pattern whose literals are absent) ----------


def _unfiltered(text: str) -> str:
    """Every pattern run unconditionally, in the sanitizer's order: the reference."""
    for pattern in sanitize_module._KEY_PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = sanitize_module._URL_CREDENTIALS.sub(lambda m: f"{m[1]}{REDACTED}{m[3]}", text)
    text = sanitize_module._AZURE.sub(lambda m: f"{m[1]}{REDACTED}", text)
    text = sanitize_module._AUTH_HEADER.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    text = sanitize_module._SECRET_ASSIGNMENT.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    return sanitize_module._BEARER.sub(f"Bearer {REDACTED}", text)


# The case-insensitive names spelled with the non-ASCII letters re.IGNORECASE equates to
# ASCII ones (dotted and dotless i, long s, the Kelvin sign).
ODD_SPELLINGS = [
    "prİvate_key = hunter2hunter2",
    "apı_key: abcdef123456",
    "ſecret=abcdef123456",
    "x-api-Key: abcdef123456",
    "AUTHORİZATİON: Bearer abcdefghijklmnop",
    "Token = abc123def456",
    "ACCOUNTKEY=abc+def/ghi==;",
    "https://user:pa55word@example.com/path",
    "BEARER abcdefghijklmnopqrstuvwxyz",
]


@pytest.mark.parametrize(
    "text",
    [s[1] for s in SHAPES] + ODD_SPELLINGS,
    ids=[s[0] for s in SHAPES] + [f"odd-{i}" for i in range(len(ODD_SPELLINGS))],
)
def test_the_prefilter_redacts_what_every_pattern_would(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sanitize_module, "_REGISTERED", set())
    monkeypatch.setattr(sanitize_module, "_secret_env_values", list)
    assert sanitize_text(text, limit=None, redact_pii=False) == _unfiltered(text)


def test_every_rule_has_a_compiled_pattern_and_needles_it_can_match() -> None:
    for pattern, needles in sanitize_module._KEY_RULES:
        assert needles is None or all(needle for needle in needles), pattern.pattern


def test_the_fold_covers_every_letter_ignorecase_equates_to_ascii() -> None:
    import re

    letter = re.compile("(?i)[a-z]")
    odd = {chr(c) for c in range(128, 0x110000) if letter.fullmatch(chr(c))}
    assert odd == {chr(c) for c in sanitize_module._TO_ASCII}


def test_many_secrets_in_one_text_are_all_redacted_as_every_pattern_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The prefilter looks for every rule's needles once, before any rule runs.
    monkeypatch.setattr(sanitize_module, "_REGISTERED", set())
    monkeypatch.setattr(sanitize_module, "_secret_env_values", list)
    for joiner in (" ", "", "\n"):
        text = joiner.join([s[1] for s in SHAPES] + ODD_SPELLINGS)
        assert sanitize_text(text, limit=None, redact_pii=False) == _unfiltered(text)


def test_a_redaction_never_makes_a_needle_for_a_later_rule() -> None:
    # What that single look relies on: a needle would have to span "[REDACTED]" to be made
    # by a replacement, and none holds its brackets.
    for needle, _index in sanitize_module._NEEDLE_RULES:
        assert "[" not in needle and "]" not in needle and needle not in REDACTED


@pytest.mark.parametrize("seed", range(5))
def test_text_of_digits_and_time_marks_has_nothing_for_the_patterns(seed: int) -> None:
    # sanitize_text skips the patterns for such text (timestamps, numbers): check they
    # would have found nothing, on random strings of that alphabet and on known shapes.
    import random

    rng = random.Random(seed)
    alphabet = "0123456789 :.T+-"
    texts = ["2026-11-30T14:27:37.920+00:00", "1234567890:12", "+1 (555) 010-9999".replace(
        "(", "").replace(")", ""), "T" * 40, "0" * 32, "1" * 64]  # fmt: skip
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))) for _ in range(300)]
    for text in texts:
        assert sanitize_module._INERT.fullmatch(text), text
        assert sanitize_module._redact_patterns(text) == text, text


def test_a_secret_of_digits_is_still_redacted_from_inert_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EIGHTFLOW_TEST_PIN_SECRET", "20261130")
    assert sanitize_text("2026113012:00", limit=None) == "[REDACTED]12:00"
