"""Provider API keys: looked up explicitly, at call time, on the host that makes the call,
and never logged.

No key lives in the Prefect server: not in a Secret block, not in a variable, not in a
deployment. A worker reads ``<PROVIDER>_API_KEY`` from its own environment, or from
``EIGHTFLOW_HOME/keys.env`` (``NAME=value`` lines), a file that must be the owner's only
(0600, not a link): one readable by others is refused, with a warning naming it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from eightflow.gateway.errors import provider_of
from eightflow.safety.sanitize import register_secret
from eightflow.settings import get_settings

KEYS_FILE = "keys.env"
_PLUGGED: set[str] = set()  # providers registered in-process: they take no key
# The parsed key file, kept while its (inode, size, mtime) stay the same: workers make
# thousands of calls, and an edited file is picked up on the next one.
_FILE_CACHE: dict[Path, tuple[tuple[int, int, int], dict[str, str]]] = {}

log = logging.getLogger(__name__)


class KeyFileError(ValueError):
    """The key file is readable by others, or not a regular file of ours."""


def keys_file() -> Path:
    return get_settings().home.expanduser() / KEYS_FILE


def _parse(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if value:
            values[name.strip()] = value
    return values


def read_keys_file(path: Path | None = None) -> dict[str, str]:
    """``NAME=value`` pairs of the key file ({} when there is none).

    Opened without following a link, and checked on the open descriptor: a regular file,
    owned by this user, with no group or other permission bits.
    """
    path = path or keys_file()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot be opened ({exc.strerror}); is it a link?") from None
    with os.fdopen(fd, "r", encoding="utf-8") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            raise KeyFileError(f"{path}: not a regular file owned by this user")
        if info.st_mode & 0o077:
            raise KeyFileError(
                f"{path}: readable by others (mode {stat.S_IMODE(info.st_mode):o}); "
                f"run `chmod 600 {path}`"
            )
        signature = (info.st_ino, info.st_size, info.st_mtime_ns)
        cached = _FILE_CACHE.get(path)
        if cached and cached[0] == signature:
            return cached[1]
        values = _parse(fh.read())
    for value in values.values():
        register_secret(value)  # redacted wherever it shows up
    _FILE_CACHE[path] = (signature, values)
    return values


async def provider_key(model: str) -> str | None:
    """The API key for a model's provider: ``<PROVIDER>_API_KEY`` from the environment,
    else from ``EIGHTFLOW_HOME/keys.env``; None when neither has one (or the provider is
    registered in-process and takes none)."""
    provider = provider_of(model)
    variable = f"{provider.upper()}_API_KEY"
    from_env = os.environ.get(variable)
    if from_env or provider in _PLUGGED:
        return from_env or None
    try:
        return read_keys_file().get(variable) or None
    except KeyFileError as exc:
        log.warning("provider key file refused: %s", exc)
        return None
