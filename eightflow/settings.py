"""Settings, read from the environment once per call site: one place for defaults.

Everything local (ledger, cache, server database, pid files) lives under ``EIGHTFLOW_HOME``
(default ``~/.eightflow``) so a user can wipe or move it as one folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

EMBEDDED_MODEL = "local/embedded"


class Settings(BaseModel):
    home: Path = Field(description="EIGHTFLOW_HOME: ledger, cache, server data.")
    model: str = Field(description="EIGHTFLOW_MODEL: the default model string for litellm.")
    fallback_models: list[str] = Field(default_factory=list)
    api_base: str | None = Field(default=None, description="EIGHTFLOW_API_BASE for the model.")
    request_timeout_s: float = 60.0
    server_host: str = "127.0.0.1"
    server_port: int = 4200
    auto_server: bool = True
    prompts_dir: Path | None = None
    redact_pii: bool = False

    @property
    def state_dir(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


def env_flag(name: str, default: bool) -> bool:
    """A boolean environment setting: unset means ``default``; 0/false/no/off mean False."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() not in {"0", "false", "no", "off"}


def get_settings() -> Settings:
    """The current settings. Cheap; re-read each time so tests can change the env."""
    env = os.environ
    fallbacks = [m.strip() for m in env.get("EIGHTFLOW_FALLBACK_MODELS", "").split(",")]
    prompts_dir = env.get("EIGHTFLOW_PROMPTS_DIR")
    return Settings(
        home=Path(env.get("EIGHTFLOW_HOME") or Path.home() / ".eightflow").expanduser(),
        model=env.get("EIGHTFLOW_MODEL") or EMBEDDED_MODEL,
        fallback_models=[m for m in fallbacks if m],
        api_base=env.get("EIGHTFLOW_API_BASE") or None,
        request_timeout_s=float(env.get("EIGHTFLOW_REQUEST_TIMEOUT_S") or 60.0),
        server_host=env.get("EIGHTFLOW_SERVER_HOST") or "127.0.0.1",
        server_port=int(env.get("EIGHTFLOW_SERVER_PORT") or 4200),
        auto_server=env_flag("EIGHTFLOW_AUTO_SERVER", True),
        prompts_dir=Path(prompts_dir) if prompts_dir else None,
        redact_pii=env_flag("EIGHTFLOW_REDACT_PII", False),
    )
