# ruff: noqa: E501
"""Attack: secrets in common shapes pass the sanitizer, keys from the key file are never
registered with it, and ``excerpt()`` truncates before it redacts."""

from __future__ import annotations

from typing import Any

import pytest

from eightflow.safety import sanitize as sanitize_module
from eightflow.safety.excerpts import excerpt
from eightflow.safety.sanitize import REDACTED, register_secret, sanitize, sanitize_text

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


# One row per shape the sanitizer knows (eightflow/safety/secret_shapes.py): a text holding the
# secret, the secret, and a near miss that must pass untouched.
H40 = "0123456789abcdef" * 2 + "01234567"
B64 = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAbCdEf6h"
PER_SHAPE: dict[str, tuple[str, str, str]] = {
    "pem private key": (f"cert:\n{PEM}\nend", "MIIEowIBAAKCAQEA7vbqajDw4o6gJy8U",
                        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END PUBLIC KEY-----"),
    "openai/anthropic/openrouter": ("key sk-Ab3dEf6hIj9kLm2nOp5qRs8t", "Ab3dEf6hIj9kLm2n", "sk-Ab3dEf6hIj9kLm"),
    "stripe": ("sk_live_51HxYzAbCdEfGhIjKlMnOpQr", "51HxYzAbCdEfGhIj", "sk_live_short"),
    "stripe webhook": ("whsec_" + "b1" * 16, "b1" * 16, "whsec_tooshort"),
    "aws key id": ("AKIAIOSFODNN7EXAMPLE in the file", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPL"),
    "google api key": ("AIza" + "S" * 35, "S" * 35, "AIza" + "S" * 20),
    "google oauth token": ("ya29.a0AfH6SMBx" + "y" * 30, "y" * 30, "ya29.short"),
    "google oauth client secret": ("GOCSPX-" + "g7Hk" * 7, "g7Hk" * 7, "GOCSPX-" + "g7Hk" * 3),
    "github": ("ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2, "a1B2c3D4e5F6g7H8i9J0", "ghp_a1B2c3D4e5"),
    "github fine-grained": ("github_pat_" + "11ABCDEFG0" * 5, "11ABCDEFG011ABCDEFG0", "github_pat_11ABCDEFG0"),
    "gitlab personal": ("glpat-x1Y2z3W4v5U6t7S8r9Q0", "x1Y2z3W4v5U6t7S8r9Q0", "glpat-x1Y2z3"),
    "gitlab other tokens": ("glrt-" + "Rr9s" * 6, "Rr9s" * 6, "glrt-Rr9s"),
    "slack token": ("xoxb-1234567890-abcdefghijkl", "1234567890-abcdefghijkl", "xoxb-12345"),
    "slack app token": ("xapp-1-A0123456789-1234567890123-" + "ab12" * 16, "A0123456789-1234567890123", "xapp-token"),
    "slack webhook": ("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX", "XXXXXXXXXXXX", "https://hooks.slack.com/apps"),
    "discord webhook": ("https://discord.com/api/webhooks/123456789012345678/" + "aB3_" * 16, "aB3_aB3_aB3_", "https://discord.com/channels/123/456"),
    "discord bot token": ("bot MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123", "GaBcDe.abcdefghijklmnop", "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.short"),
    "twilio api key": ("SK" + HEX32, HEX32, "SK" + HEX32[:30]),
    "notion integration": ("secret_" + "N0t1onK3y" * 4 + "abcdefg", "N0t1onK3yN0t1onK3y", "secret_" + "N0t1onK3y"),
    "notion token": ("ntn_" + "4bC9" * 11, "4bC9" * 11, "ntn_4bC9"),
    "hugging face": ("hf_" + "Q" * 34, "Q" * 34, "hf_" + "Q" * 10),
    "groq": ("gsk_" + "R" * 40, "R" * 40, "gsk_" + "R" * 10),
    "prefect cloud": ("pnu_" + "P" * 36, "P" * 36, "pnu_" + "P" * 10),
    "xai": ("xai-" + "X9" * 20, "X9" * 20, "xai-" + "X9" * 5),
    "perplexity": ("pplx-" + "p1" * 20, "p1" * 20, "pplx-" + "p1" * 5),
    "replicate": ("r8_" + "Rr" * 20, "Rr" * 20, "r8_" + "Rr" * 5),
    "langsmith": ("lsv2_pt_" + "a" * 32 + "_" + "b" * 10, "a" * 32, "lsv2_pt_" + "a" * 12),
    "npm": ("npm_" + "N1" * 18, "N1" * 18, "npm_" + "N1" * 5),
    "pypi": ("pypi-AgEIcHlwaS5vcmc" + "p" * 60, "p" * 60, "pypi-" + "p" * 20),
    "digitalocean": ("dop_v1_" + "ab" * 32, "ab" * 32, "dop_v1_" + "ab" * 10),
    "shopify": ("shpat_" + "c0" * 16, "c0" * 16, "shpat_" + "c0" * 10),
    "databricks": ("dapi" + "0a" * 16, "0a" * 16, "dapi" + "0a" * 10),
    "sendgrid": ("SG." + "s" * 22 + "." + "t" * 43, "t" * 43, "SG." + "s" * 8 + ".t"),
    "mailgun": ("key-" + "9f" * 16, "9f" * 16, "key-" + "9f" * 10),
    "telegram bot": ("bot 123456789:AA" + "h" * 33, "h" * 33, "at 12:AA" + "h" * 10),
    "atlassian": ("ATATT3" + "xFfGF0" * 30, "xFfGF0" * 10, "ATATT3" + "xFfGF0" * 3),
    "linear": ("lin_api_" + "L1n" * 13 + "x", "L1n" * 13, "lin_api_" + "L1n" * 3),
    "heroku": ("HRKU-" + "h3r0" * 12, "h3r0" * 12, "HRKU-" + "h3r0" * 3),
    "doppler": ("dp.pt." + "D0p" * 15, "D0p" * 15, "dp.pt." + "D0p" * 3),
    "vault": ("hvs." + "V4ult" * 6, "V4ult" * 6, "hvs.short"),
    "terraform cloud": ("Ab12Cd34Ef56Gh.atlasv1." + "tF" * 35, "tF" * 35, "Ab12.atlasv1.tFtF"),
    "postman": ("PMAK-" + "a" * 24 + "-" + "b" * 34, "b" * 34, "PMAK-" + "a" * 10),
    "sentry": ("sntrys_" + "eyJ0" * 12, "eyJ0" * 12, "sntrys_" + "eyJ0" * 3),
    "grafana": ("glsa_" + "Gr4f" * 9, "Gr4f" * 9, "glsa_" + "Gr4f" * 3),
    "new relic": ("NRAK-" + "N3WR" * 7, "N3WR" * 7, "NRAK-" + "N3WR" * 2),
    "square": ("sq0atp-" + "Sq1" * 8, "Sq1" * 8, "sq0atp-" + "Sq1" * 3),
    "facebook": ("EAAB" + "fB4c" * 22, "fB4c" * 22, "EAAB" + "fB4c" * 5),
    "firebase fcm": ("AAAAabc-123:APA91b" + "fcM9" * 30, "fcM9" * 30, "AAAAabc-123:APA91b" + "fcM9" * 5),
    "supabase": ("sbp_" + "5b" * 20, "5b" * 20, "sbp_" + "5b" * 10),
    "planetscale": ("pscale_tkn_" + "Ps4" * 12, "Ps4" * 12, "pscale_tkn_" + "Ps4" * 3),
    "pulumi": ("pul-" + "d1" * 20, "d1" * 20, "pul-" + "d1" * 10),
    "age secret key": ("AGE-SECRET-KEY-1" + "QZ9" * 19 + "Q", "QZ9" * 19, "AGE-SECRET-KEY-1" + "QZ9" * 5),
    "azure ad client secret": ("abc8Q~" + "Az~.d" * 7, "Az~.dAz~.d", "abc8Q~short"),
    "fly.io": ("FlyV1 fm2_" + "fLy0" * 12, "fLy0" * 12, "FlyV1 fm2_" + "fLy0" * 3),
    "dropbox": ("sl." + "Dr0p" * 34, "Dr0p" * 34, "sl." + "Dr0p" * 10),
    "figma": ("figd_" + "F1g" * 14, "F1g" * 14, "figd_" + "F1g" * 4),
    "airtable": ("patAbCdEf12345678." + "ab" * 32, "ab" * 32, "patAbCdEf12345678." + "ab" * 10),
    "jwt": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36",
            "SflKxwRJSMeKKF2QT4fwpMeJf36", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIi"),
    "user:48-hex auth string": ("PREFECT auth eightflow:" + "a1" * 24, "a1" * 24, "sha256:" + "a1" * 32),
    "aws secret key after 'secret'": (f"the aws secret is {A40}", A40, "the secret is " + "a" * 40),
    "32 hex (azure, twilio auth token)": (f"the Azure key is {HEX32}", HEX32, "digest " + "9" * 32 + " and " + "f" * 32),
    "url credentials": ("postgresql://app:hunter2pass@db.internal:5432/prod", "hunter2pass", "see https://example.com/a:b@c"),
    "azure connection string / sas": ("DefaultEndpointsProtocol=https;AccountKey=abc+def/ghi==;Endpoint", "abc+def/ghi==", "AccountName=harbour;Endpoint=x"),
    "authorization header": ("x-api-key: abcdef123456", "abcdef123456", "the API key rotation is due"),
    "secret assignment": ("DB_PASSWORD=Tr0ub4dor3", "Tr0ub4dor3", "secretary: Johnathan"),
    "bearer token": ("sent bearer abcdef123456ghijkl", "abcdef123456ghijkl", "the bearer of bad news"),
    "basic credentials": ("Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "basic understanding of harbours"),
}  # fmt: skip


def test_the_table_is_large_enough() -> None:
    assert len(SHAPES) >= 30
    assert len(sanitize_module.SHAPES) >= 60


def test_every_shape_of_the_sanitizer_has_a_row() -> None:
    assert {shape.name for shape in sanitize_module.SHAPES} == set(PER_SHAPE)


@pytest.fixture
def no_known_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sanitize_module, "_REGISTERED", set())
    monkeypatch.setattr(sanitize_module, "_secret_env_values", list)


@pytest.mark.parametrize("name", list(PER_SHAPE))
def test_each_shape_redacts_its_secret(name: str, no_known_secrets: None) -> None:
    text, secret, _near = PER_SHAPE[name]
    shape = next(s for s in sanitize_module.SHAPES if s.name == name)
    assert shape.pattern.search(text), "the example does not show this shape"
    clean = sanitize_text(text, limit=None, redact_pii=False)
    assert secret not in clean and REDACTED in clean


@pytest.mark.parametrize("name", list(PER_SHAPE))
def test_each_shape_leaves_its_near_miss_alone(name: str, no_known_secrets: None) -> None:
    near = PER_SHAPE[name][2]
    assert sanitize_text(near, limit=None, redact_pii=False) == near


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
    """Every shape run unconditionally, in the sanitizer's order: the reference."""
    for shape in sanitize_module.SHAPES:
        text = sanitize_module._apply(shape, text, None)
    return text


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


ALL_TEXTS = [s[1] for s in SHAPES] + [row[0] for row in PER_SHAPE.values()]
NEAR_MISSES = [row[2] for row in PER_SHAPE.values()]


@pytest.mark.parametrize(
    "text",
    ALL_TEXTS + NEAR_MISSES + ODD_SPELLINGS,
    ids=[s[0] for s in SHAPES]
    + [f"shape-{name}" for name in PER_SHAPE]
    + [f"near-{name}" for name in PER_SHAPE]
    + [f"odd-{i}" for i in range(len(ODD_SPELLINGS))],
)
def test_the_prefilter_redacts_what_every_pattern_would(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sanitize_module, "_REGISTERED", set())
    monkeypatch.setattr(sanitize_module, "_secret_env_values", list)
    assert sanitize_text(text, limit=None, redact_pii=False) == _unfiltered(text)


def test_every_rule_has_a_compiled_pattern_and_needles_it_can_match() -> None:
    for shape in sanitize_module.SHAPES:
        needles = shape.needles
        assert needles is None or all(needle for needle in needles), shape.name
        if shape.folded:
            assert needles is not None and all(n == n.lower() for n in needles), shape.name


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
        text = joiner.join(ALL_TEXTS + NEAR_MISSES + ODD_SPELLINGS)
        assert sanitize_text(text, limit=None, redact_pii=False) == _unfiltered(text)


def test_every_needle_sits_behind_a_gate_it_contains() -> None:
    gated = [(gate, rule) for gate, rules in sanitize_module._GATED_RULES for rule in rules]
    assert sorted(rule for _gate, rule in gated) == sorted(sanitize_module._NEEDLE_RULES)
    assert all(gate in needle for gate, (needle, _index) in gated)


def test_a_redaction_never_makes_a_needle_for_a_later_rule() -> None:
    # What that single look relies on: a needle would have to span "[REDACTED]" to be made
    # by a replacement, and none holds its brackets.
    rules = sanitize_module._NEEDLE_RULES + sanitize_module._FOLDED_RULES
    for needle, _index in rules:
        assert "[" not in needle and "]" not in needle and needle not in REDACTED
        assert needle not in REDACTED.lower()


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


# -- invisible characters, and secrets found in a text for use elsewhere ------------------

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]


@pytest.mark.parametrize("mark", ZERO_WIDTH, ids=[f"U+{ord(c):04X}" for c in ZERO_WIDTH])
@pytest.mark.parametrize("name", ["openai/anthropic/openrouter", "github", "aws key id"])
def test_a_key_split_by_an_invisible_character_is_still_redacted(
    mark: str, name: str, no_known_secrets: None
) -> None:
    text, secret, _near = PER_SHAPE[name]
    at = text.index(secret) + len(secret) // 2
    split = text[:at] + mark + text[at:]
    clean = sanitize_text(split, limit=None, redact_pii=False)
    assert REDACTED in clean and mark not in clean
    assert secret[: len(secret) // 2] not in clean


def test_a_known_secret_split_by_an_invisible_character_is_still_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EIGHTFLOW_TEST_SPLIT_TOKEN", "opaque-value-0c1d2e3f")
    assert "0c1d" not in sanitize_text("was opaque-value-\u200b0c1d2e3f", limit=None)


@pytest.mark.parametrize("name", list(PER_SHAPE))
def test_secrets_in_names_what_the_sanitizer_removes(name: str, no_known_secrets: None) -> None:
    text, secret, near = PER_SHAPE[name]
    found = sanitize_module.secrets_in(text)
    assert any(secret in value for value in found), found
    clean = text
    for value in found:
        clean = clean.replace(value, REDACTED)
    assert clean == sanitize_text(text, limit=None, redact_pii=False)
    assert sanitize_module.secrets_in(near) == set()
