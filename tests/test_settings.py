"""Settings: every documented EIGHTFLOW_* variable, its default, and bad values named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from eightflow.settings import EMBEDDED_MODEL, SettingsError, get_settings

_VARS = (
    "EIGHTFLOW_MODEL",
    "EIGHTFLOW_FALLBACK_MODELS",
    "EIGHTFLOW_API_BASE",
    "EIGHTFLOW_REQUEST_TIMEOUT_S",
    "EIGHTFLOW_SERVER_HOST",
    "EIGHTFLOW_SERVER_PORT",
    "EIGHTFLOW_AUTO_SERVER",
    "EIGHTFLOW_PROMPTS_DIR",
    "EIGHTFLOW_REDACT_PII",
    "EIGHTFLOW_OTEL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "EIGHTFLOW_WORKFLOWS",
    "EIGHTFLOW_BATCH_POLL_S",
    "EIGHTFLOW_REVIEW_POLL_S",
    "EIGHTFLOW_REVIEW_GRACE_S",
    "EIGHTFLOW_REVIEW_PAGE_SIZE",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.delenv("EIGHTFLOW_HOME")
    env.setenv("HOME", str(tmp_path))
    s = get_settings()
    assert s.home == tmp_path / ".eightflow"
    assert (s.model, s.fallback_models, s.api_base) == (EMBEDDED_MODEL, [], None)
    assert (s.request_timeout_s, s.server_host, s.server_port) == (60.0, "127.0.0.1", 4200)
    assert (s.auto_server, s.redact_pii, s.otel_enabled) == (True, False, False)
    assert (s.prompts_dir, s.workflows, s.batch_poll_s) == (None, {}, 30.0)
    assert (s.review_grace_s, s.review_page_size) == (60, 10)


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("EIGHTFLOW_HOME", "~/elsewhere", "home", Path("~/elsewhere").expanduser()),
        ("EIGHTFLOW_MODEL", "openai/gpt-4o-mini", "model", "openai/gpt-4o-mini"),
        ("EIGHTFLOW_MODEL", "", "model", EMBEDDED_MODEL),  # empty means unset
        ("EIGHTFLOW_FALLBACK_MODELS", " a/x, ,b/y ", "fallback_models", ["a/x", "b/y"]),
        ("EIGHTFLOW_CHEAPER_MODELS", "a/x,b/y", "cheaper_models", ["a/x", "b/y"]),
        ("EIGHTFLOW_API_BASE", "http://127.0.0.1:8000/v1", "api_base", "http://127.0.0.1:8000/v1"),
        ("EIGHTFLOW_REQUEST_TIMEOUT_S", "2.5", "request_timeout_s", 2.5),
        ("EIGHTFLOW_SERVER_HOST", "0.0.0.0", "server_host", "0.0.0.0"),
        ("EIGHTFLOW_SERVER_PORT", "4311", "server_port", 4311),
        ("EIGHTFLOW_AUTO_SERVER", "0", "auto_server", False),
        ("EIGHTFLOW_AUTO_SERVER", "off", "auto_server", False),
        ("EIGHTFLOW_AUTO_SERVER", "", "auto_server", True),
        ("EIGHTFLOW_PROMPTS_DIR", "/srv/prompts", "prompts_dir", Path("/srv/prompts")),
        ("EIGHTFLOW_PROMPTS_DIR", "~/prompts", "prompts_dir", Path("~/prompts").expanduser()),
        ("EIGHTFLOW_REDACT_PII", "1", "redact_pii", True),
        ("EIGHTFLOW_REDACT_PII", "yes", "redact_pii", True),
        ("EIGHTFLOW_OTEL", "1", "otel_enabled", True),
        ("EIGHTFLOW_BATCH_POLL_S", "0.05", "batch_poll_s", 0.05),
        ("EIGHTFLOW_REVIEW_POLL_S", "2", "review_poll_s", 2),
        ("EIGHTFLOW_REVIEW_GRACE_S", "0", "review_grace_s", 0),
        ("EIGHTFLOW_REVIEW_PAGE_SIZE", "3", "review_page_size", 3),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "otel_enabled", True),
        (
            "EIGHTFLOW_WORKFLOWS",
            "mine=pkg.mod:Mine, other = pkg.o:Other,junk",
            "workflows",
            {"mine": "pkg.mod:Mine", "other": "pkg.o:Other"},
        ),
    ],
)
def test_each_variable(
    env: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: Any
) -> None:
    env.setenv(variable, value)
    assert getattr(get_settings(), field) == expected


def test_otel_off_wins_over_the_endpoint(env: pytest.MonkeyPatch) -> None:
    env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    env.setenv("EIGHTFLOW_OTEL", "0")
    assert get_settings().otel_enabled is False


def test_settings_follow_the_environment(env: pytest.MonkeyPatch) -> None:
    first = get_settings()
    assert get_settings() is first  # unchanged environment: not parsed again
    env.setenv("EIGHTFLOW_MODEL", "openai/gpt-4o")
    assert get_settings().model == "openai/gpt-4o"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EIGHTFLOW_SERVER_PORT", "http"),
        ("EIGHTFLOW_SERVER_PORT", "70000"),
        ("EIGHTFLOW_REQUEST_TIMEOUT_S", "-1"),
        ("EIGHTFLOW_AUTO_SERVER", "perhaps"),
        ("EIGHTFLOW_REVIEW_GRACE_S", "-1"),
        ("EIGHTFLOW_REVIEW_PAGE_SIZE", "0"),
    ],
)
def test_bad_values_name_the_variable(env: pytest.MonkeyPatch, variable: str, value: str) -> None:
    env.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        get_settings()


def test_settings_import_neither_prefect_nor_litellm() -> None:
    code = (
        "import sys, eightflow.settings as s\n"
        "s.get_settings()\n"
        "print(sorted(m for m in ('prefect', 'litellm') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
