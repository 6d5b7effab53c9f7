"""Attack: a fresh ``EIGHTFLOW_HOME`` was created 0755 (others could list it and read what
the umask left readable) until a server started. Now every first use makes it 0700."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def _ledger() -> Any:
    from eightflow.store.ledger import Ledger

    return Ledger()


def _cache() -> Any:
    from eightflow.store.cache import ResponseCache

    return ResponseCache.default()


def _state_dir() -> Any:
    from eightflow.settings import get_settings

    return get_settings().state_dir


def _auth_file() -> Any:
    from eightflow.server.auth import auth_string

    return auth_string()


def _home_made_private() -> Any:
    from eightflow.server.auth import make_home_private

    return make_home_private()


def _server_env() -> Any:
    from eightflow.server.local import LocalServer

    return LocalServer(port=1).server_env()


FIRST_USES: dict[str, Callable[[], Any]] = {
    "ledger": _ledger,
    "response cache": _cache,
    "settings.state_dir": _state_dir,
    "auth string": _auth_file,
    "make_home_private": _home_made_private,
    "local server environment": _server_env,
}


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "existing 0755"])
@pytest.mark.parametrize("use", list(FIRST_USES))
def test_the_home_is_0700_from_its_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loose_umask: None, use: str, existing: bool
) -> None:
    home = tmp_path / "nested" / "home"
    if existing:
        home.mkdir(parents=True, mode=0o755)
        os.chmod(home, 0o755)
    monkeypatch.setenv("EIGHTFLOW_HOME", str(home))
    monkeypatch.setenv("EIGHTFLOW_SERVER_AUTH", "1")
    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    made = FIRST_USES[use]()
    close = getattr(made, "close", None)
    if callable(close):
        close()
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
