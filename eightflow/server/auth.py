"""The local Prefect server asks who you are: auth string, CSRF, CORS, private files.

``eightflow server start`` and ``eightflow stack up`` call :func:`server_security_env`
for the server's environment and :func:`client_env` for every client and worker:

- an auth string (``eightflow:<48 hex>``) is generated once and kept in
  ``EIGHTFLOW_HOME/prefect-auth`` with mode 0600 (``PREFECT_SERVER_API_AUTH_STRING``
  overrides it); an API request without it gets 401;
- CSRF protection is on, and CORS allows only the UI's own origin;
- binding to anything but loopback without auth is refused;
- ``EIGHTFLOW_HOME`` is 0700 and the files in it 0600 (:func:`make_home_private`);
- the active Prefect profile gets the API URL and the auth string, so
  ``prefect deployment run ...`` in the same environment keeps working.

``EIGHTFLOW_SERVER_AUTH=0`` turns auth off, and only on a loopback address.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from eightflow.settings import get_settings, private_dir, user_path

AUTH_FILE = "prefect-auth"


class ServerSecurityError(RuntimeError):
    """The server would start in a way that lets strangers in."""


def make_home_private(home: Path | None = None) -> Path:
    """``EIGHTFLOW_HOME`` at 0700, its files at 0600 (directories inside at 0700)."""
    home = private_dir(home or get_settings().home)
    for root, dirs, files in os.walk(home):
        for name in dirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, 0o600)
    return home


def auth_enabled() -> bool:
    return get_settings().server_auth


def auth_string(create: bool = True, home: Path | None = None) -> str | None:
    """The server's auth string: from the environment, the 0600 file, or newly made.

    ``home`` is the server's ``EIGHTFLOW_HOME`` (default: this process's).
    """
    configured = os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    if configured:
        return configured
    if not auth_enabled():
        return None
    return credential(user_path(home or get_settings().home) / AUTH_FILE, "eightflow", create)


def credential(path: Path, user: str, create: bool = True) -> str | None:
    """A ``user:<48 hex>`` credential kept in a 0600 file: read, or made when missing."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        if not create:
            return None
    make_home_private(path.parent)
    value = f"{user}:{secrets.token_hex(24)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, auth: str | None) -> None:
    """Refuse a non-loopback bind without auth."""
    if not auth and not is_loopback(host):
        raise ServerSecurityError(
            f"refusing to serve the Prefect API on {host} without auth; keep "
            "EIGHTFLOW_SERVER_HOST on 127.0.0.1 or leave auth on (EIGHTFLOW_SERVER_AUTH)"
        )


def server_security_env(host: str, port: int, home: Path | None = None) -> dict[str, str]:
    """Environment for ``prefect server start``: auth, CSRF on, CORS for the UI only."""
    auth = auth_string(home=home)
    check_bind(host, auth)
    origin = f"http://{host}:{port}"
    env = {
        "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "true",
        "PREFECT_SERVER_CORS_ALLOWED_ORIGINS": origin,
    }
    if auth:
        env["PREFECT_SERVER_API_AUTH_STRING"] = auth
    return env


def client_env(home: Path | None = None) -> dict[str, str]:
    """Environment for clients and workers of our server (empty when auth is off)."""
    auth = auth_string(create=False, home=home)
    return {"PREFECT_API_AUTH_STRING": auth} if auth else {}


def auth_headers(home: Path | None = None) -> dict[str, str]:
    """HTTP headers a plain client (health checks, tests) sends to our server."""
    auth = auth_string(create=False, home=home)
    if not auth:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}


def use_server(api_url: str, ui_url: str | None = None) -> None:
    """Point this process at our server, with its auth string; ``ui_url`` (the server's
    root) becomes the UI version every link opens, Prefect's "View at" lines included."""
    from eightflow.server.ui_links import ui_base_url

    os.environ["PREFECT_API_URL"] = api_url
    if ui_url:
        os.environ["PREFECT_UI_URL"] = ui_base_url(ui_url) or ui_url
    os.environ.update(client_env())


def configure_profile(api_url: str) -> str | None:
    """Put the API URL and auth string into the active Prefect profile; returns its name.

    So that ``prefect deployment run ...`` in the same environment needs no extra step,
    and its "View at" links open the same UI version as eightflow's
    (:mod:`eightflow.server.ui_links`). ``EIGHTFLOW_CONFIGURE_PROFILE=0`` leaves the profile
    alone.
    """
    if not get_settings().configure_profile:
        return None
    from prefect.settings import (
        PREFECT_API_AUTH_STRING,
        PREFECT_API_URL,
        PREFECT_PROFILES_PATH,
        PREFECT_UI_URL,
        update_current_profile,
    )

    from eightflow.server.ui_links import ui_base_url

    values: dict[Any, Any] = {
        PREFECT_API_URL: api_url,
        PREFECT_UI_URL: ui_base_url(api_url.removesuffix("/api")),
    }
    auth = auth_string(create=False)
    if auth:
        values[PREFECT_API_AUTH_STRING] = auth
    profile = update_current_profile(values)
    profiles = Path(PREFECT_PROFILES_PATH.value())
    if profiles.exists():
        os.chmod(profiles, stat.S_IRUSR | stat.S_IWUSR)  # it holds the auth string now
    return str(profile.name)


def unconfigure_profile(api_url: str) -> None:
    """Undo :func:`configure_profile` when the profile still points at ``api_url``."""
    if not get_settings().configure_profile or not _profiles_may_mention(api_url):
        return
    import prefect.context
    from prefect.settings import load_profiles, save_profiles

    current = prefect.context.get_settings_context().profile
    profiles = load_profiles()
    if current is None or current.name not in profiles:
        return
    profile = profiles[current.name]
    settings = {getattr(k, "name", str(k)): v for k, v in profile.settings.items()}
    if settings.get("PREFECT_API_URL") != api_url:
        return
    profiles.remove_profile(current.name)
    keep = {
        k: v
        for k, v in profile.settings.items()
        if getattr(k, "name", str(k))
        not in {"PREFECT_API_URL", "PREFECT_API_AUTH_STRING", "PREFECT_UI_URL"}
    }
    profiles.add_profile(type(profile)(name=current.name, settings=keep, source=profile.source))
    save_profiles(profiles)


def _profiles_may_mention(api_url: str) -> bool:
    """False only when the Prefect profiles file in use surely does not name ``api_url``.

    Lets ``server stop`` skip importing Prefect (about a second) when there is nothing to
    take back. The file is ``PREFECT_PROFILES_PATH``, else ``PREFECT_HOME/profiles.toml``,
    else ``~/.prefect/profiles.toml``. Prefect is asked whenever it could read the settings
    otherwise: a settings file in this directory (``prefect.toml``, a ``.env`` or
    ``pyproject.toml`` naming Prefect), a ``PREFECT_`` variable spelled in another case
    (Prefect's names ignore case), an empty one, or a path with a template or a ``~`` that
    Prefect may not expand the way this check would.
    """
    here = Path.cwd()
    if (here / "prefect.toml").exists():
        return True
    for name, marker in ((".env", "prefect_"), ("pyproject.toml", "tool.prefect")):
        try:
            text = (here / name).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        except OSError:
            return True
        if marker in text.lower():
            return True
    for name, value in os.environ.items():
        if name.upper().startswith("PREFECT_") and (name != name.upper() or not value):
            return True
    if "PREFECT_PROFILES_PATH" in os.environ:
        path = os.environ["PREFECT_PROFILES_PATH"]
        if "~" in path:
            return True
    else:
        home = os.environ.get("PREFECT_HOME", "~/.prefect")
        path = str(Path(home).expanduser() / "profiles.toml")
    if "$" in path:
        return True  # Prefect substitutes its home into the path
    try:
        return api_url in Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return False
    except OSError:
        return True  # Prefect's own reading will say what is wrong
