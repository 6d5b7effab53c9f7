"""Settings: one pydantic-settings model read from ``EIGHTFLOW_*`` environment variables.

Everything local (ledger, cache, server database) lives under ``EIGHTFLOW_HOME`` (default
``~/.eightflow``) so a user can wipe or move it as one folder. :func:`get_settings` is the
one access point; it follows the environment as it changes (tests, the CLI's options) and
re-parses it only when one of the variables it reads has changed. The operator's list of
allowed models (:func:`allowed_models`) is read here too: Run forms and prompt files both
ask it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EMBEDDED_MODEL = "local/embedded"
PREFIX = "EIGHTFLOW_"


class SettingsError(ValueError):
    """An ``EIGHTFLOW_*`` variable holds a value that cannot be used; names the variable."""


class ModelLimits(BaseModel):
    """One model's provider limits, shared by every run (eightflow.runtime.model_limits);
    each empty means none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rpm: float | None = Field(default=None, gt=0, description="Requests per minute.")
    tpm: int | None = Field(default=None, gt=0, description="Tokens (in + out) per minute.")
    in_flight: int | None = Field(default=None, gt=0, description="Calls in flight at once.")


class Settings(BaseSettings):
    """Each field ``name`` is read from ``EIGHTFLOW_<NAME>``; an empty variable means unset."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    home: Path = Field(
        default_factory=lambda: Path.home() / ".eightflow",
        description="EIGHTFLOW_HOME: the folder of the ledger, cache, server data and auth.",
    )
    model: str = Field(
        default=EMBEDDED_MODEL,
        description="EIGHTFLOW_MODEL: the model of every step that names none (a litellm string).",
    )
    fallback_models: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="EIGHTFLOW_FALLBACK_MODELS: comma-separated models to fall back to.",
    )
    cheaper_models: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="EIGHTFLOW_CHEAPER_MODELS: comma-separated models that on_budget=cheaper "
        "may switch a batch to (first cheaper one wins); unset: the fallback models.",
    )
    api_base: str | None = Field(
        default=None, description="EIGHTFLOW_API_BASE: an OpenAI-compatible server for calls."
    )
    request_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="EIGHTFLOW_REQUEST_TIMEOUT_S: seconds a model call may take.",
    )
    server_host: str = Field(
        default="127.0.0.1",
        description="EIGHTFLOW_SERVER_HOST: the address the local Prefect server listens on; "
        "anything but loopback is refused while auth is off.",
    )
    server_port: int = Field(
        default=4200, ge=1, le=65535, description="EIGHTFLOW_SERVER_PORT: the local server's port."
    )
    auto_server: bool = Field(
        default=True,
        description="EIGHTFLOW_AUTO_SERVER: start a local Prefect server when none runs and no API "
        "is configured; 0 uses Prefect's temporary in-process server.",
    )
    prompts_dir: Path | None = Field(
        default=None,
        description="EIGHTFLOW_PROMPTS_DIR: a folder of prompt files used instead of the shipped "
        "prompts.",
    )
    redact_pii: bool = Field(
        default=False, description="EIGHTFLOW_REDACT_PII: mask emails and phone numbers."
    )
    otel: bool | None = Field(
        default=None,
        description="EIGHTFLOW_OTEL: export runs as spans; unset follows the endpoint below.",
    )
    otel_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="OTEL_EXPORTER_OTLP_ENDPOINT: OpenTelemetry's own variable, where spans go; "
        "when set, runs are exported unless EIGHTFLOW_OTEL=0.",
    )
    batch_poll_s: float = Field(
        default=30.0,
        gt=0,
        description="EIGHTFLOW_BATCH_POLL_S: seconds between polls of a provider batch.",
    )
    review_poll_s: int = Field(
        default=5,
        ge=1,
        description="EIGHTFLOW_REVIEW_POLL_S: seconds between a paused run's looks for a decision.",
    )
    review_grace_s: int = Field(
        default=60,
        ge=0,
        description="EIGHTFLOW_REVIEW_GRACE_S: seconds a single run (of a deployment) waiting "
        "for review keeps its process before it suspends and frees its worker.",
    )
    review_page_size: int = Field(
        default=10,
        ge=1,
        le=100,
        description="EIGHTFLOW_REVIEW_PAGE_SIZE: at most this many items in one review-queue "
        "form; the rest wait in the next suspended queue run.",
    )
    server_auth: bool = Field(
        default=True,
        description="EIGHTFLOW_SERVER_AUTH: servers eightflow starts ask for an auth string.",
    )
    configure_profile: bool = Field(
        default=True,
        description="EIGHTFLOW_CONFIGURE_PROFILE: write the server's URL and auth to the profile.",
    )
    ledger_full_inputs: bool = Field(
        default=False,
        description="EIGHTFLOW_LEDGER_FULL_INPUTS: keep whole inputs, not only an excerpt.",
    )
    server_nice: int = Field(
        default=0,
        ge=0,
        le=19,
        description="EIGHTFLOW_SERVER_NICE: CPU priority (nice) of the local Prefect server "
        "eightflow starts; above 0 the server's bookkeeping yields to the runs on a busy machine.",
    )
    running_event_after_s: float = Field(
        default=10.0,
        ge=0,
        description="EIGHTFLOW_RUNNING_EVENT_AFTER_S: a batch document's task run reports "
        "Running to the Prefect server only once it has run this long; one that ends sooner "
        "sends one event, its final state with its times (0: at once, as Prefect does).",
    )
    worker_start: Literal["fork", "spawn"] | None = Field(
        default=None,
        description="EIGHTFLOW_WORKER_START: how batch worker processes start; empty: fork "
        "where the platform has it (no second import of litellm and Prefect), else spawn.",
    )
    workflows: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="EIGHTFLOW_WORKFLOWS: extra workflows as name=module:Class,...",
    )

    model_limits: Annotated[dict[str, ModelLimits], NoDecode] = Field(
        default_factory=dict,
        description="EIGHTFLOW_MODEL_LIMITS: per-model provider limits shared by every run "
        'through Prefect global concurrency limits, as JSON: {"openai/gpt-4o-mini": '
        '{"rpm": 500, "tpm": 200000, "in_flight": 16}}.',
    )
    rate_window_s: float = Field(
        default=60.0,
        gt=0,
        description="EIGHTFLOW_RATE_WINDOW_S: the window of rpm and tpm limits in seconds "
        "(60: per minute; tests shorten it).",
    )
    header_pacing: bool = Field(
        default=True,
        description="EIGHTFLOW_HEADER_PACING: hold calls while the provider's "
        "x-ratelimit-remaining-* headers say they would be refused.",
    )

    @field_validator("home", "prompts_dir", mode="after")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return None if value is None else user_path(value)

    @field_validator("fallback_models", "cheaper_models", mode="before")
    @classmethod
    def _split_models(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [m.strip() for m in value.split(",") if m.strip()]
        return value

    @field_validator("model_limits", mode="before")
    @classmethod
    def _json_limits(cls, value: Any) -> Any:
        if isinstance(value, str):
            import json

            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"not JSON ({exc.msg}); expected {{model: {{rpm, tpm, in_flight}}}}"
                ) from None
        return value

    @field_validator("workflows", mode="before")
    @classmethod
    def _split_workflows(cls, value: Any) -> Any:
        if isinstance(value, str):
            pairs = (item.partition("=") for item in value.split(",") if "=" in item)
            return {name.strip(): target.strip() for name, _, target in pairs}
        return value

    @property
    def otel_enabled(self) -> bool:
        return self.otel if self.otel is not None else bool(self.otel_endpoint)

    @property
    def state_dir(self) -> Path:
        """The home, created 0700 on first use (it holds the ledger, cache and auth)."""
        return private_dir(self.home)


def user_path(path: Path | str) -> Path:
    """A path as a person or the environment wrote it, ``~`` and ``~user`` expanded.

    The one way eightflow reads a root, a home or a user's path: no shell expands the
    ``~`` of a Run form's parameter, of ``--out=~/x`` or of ``EIGHTFLOW_DATA_ROOTS=~/docs``,
    and a ``~`` left as it is names a folder called ``~`` under the working directory.
    A ``~user`` that names no user is refused by name (a ``ValueError``, so a Run form's
    field says so), never Python's bare ``RuntimeError``.
    """
    try:
        return Path(path).expanduser()
    except RuntimeError:
        from eightflow.errors import DocumentError

        user = str(path).split("/", 1)[0]
        raise DocumentError(f"{user} names no user on this machine", path=str(path)) from None


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner can enter: created 0700 (its parents as usual),
    or tightened to 0700 when it exists and is ours. The one way ``EIGHTFLOW_HOME`` is
    made (:attr:`Settings.state_dir`, ``server_auth.make_home_private``), so the home is
    private from its first use, not only once a server has started."""
    path = user_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.stat(path)
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def _env_names() -> tuple[str, ...]:
    names = ["HOME"]  # the default of EIGHTFLOW_HOME follows it
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names += [a for a in alias.choices if isinstance(a, str)]
        else:
            names.append(PREFIX + name.upper())
    return tuple(names)


_ENV_NAMES = _env_names()
_ENV_KEYS = tuple(os.environ.encodekey(n) for n in _ENV_NAMES) if os.name == "posix" else ()
_CACHED: tuple[tuple[Any, ...], Settings] | None = None


def _snapshot() -> tuple[Any, ...]:
    # CPython keeps POSIX's environment as bytes in os.environ._data: a dict look-up per
    # name there is ~20x cheaper than os.environ.get, which encodes and decodes each time.
    raw = getattr(os.environ, "_data", None)
    if _ENV_KEYS and isinstance(raw, dict):
        return tuple(raw.get(key) for key in _ENV_KEYS)
    return tuple(os.environ.get(name) for name in _ENV_NAMES)


def get_settings() -> Settings:
    """The current settings: re-parsed only when a variable they read has changed.

    Cheap enough for hot paths (the sanitizer asks on every call).
    """
    global _CACHED
    snapshot = _snapshot()
    if _CACHED is None or _CACHED[0] != snapshot:
        _CACHED = (snapshot, _parse())
    return _CACHED[1]


def _parse() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            info = Settings.model_fields.get(field)
            alias = info.validation_alias if info else None
            name = alias.choices[0] if isinstance(alias, AliasChoices) else PREFIX + field.upper()
            problems.append(f"{name}={os.environ.get(str(name), '')!r}: {error['msg']}")
        raise SettingsError("; ".join(problems)) from None


# -- the models the operator allows: what a Run form may choose, and a prompt file may name --
def _listed() -> list[str]:
    return [
        m.strip() for m in os.environ.get("EIGHTFLOW_ALLOWED_MODELS", "").split(",") if m.strip()
    ]


def operator_lists_models() -> bool:
    """Whether ``EIGHTFLOW_ALLOWED_MODELS`` names any model."""
    return bool(_listed())


def allowed_models() -> list[str]:
    """The models a deployment's Run form may choose from (operator's list)."""
    listed = _listed()
    if listed:
        return listed
    settings = get_settings()
    return list(dict.fromkeys([settings.model, *settings.fallback_models, EMBEDDED_MODEL]))


def check_allowed_model(model: str | None) -> str | None:
    """``model`` if the operator allows it (None or empty: the default); else an error."""
    if not model:
        return None
    allowed = allowed_models()
    if model not in allowed:
        raise ValueError(
            f"model '{model}' is not allowed; the operator allows: {', '.join(allowed)} "
            "(EIGHTFLOW_ALLOWED_MODELS)"
        )
    return model
