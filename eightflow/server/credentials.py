"""Two credentials, one form (``user:password``): the operator's admin auth string and the
runner credential people use in the UI, each in a 0600 file under ``EIGHTFLOW_HOME``.

The admin string is Prefect's own (``prefect-auth``, :mod:`eightflow.server.auth`); the
Prefect server knows only that one. The runner credential (``runner-auth``) is known only to
the front door, which lets it through the runner allow-list with the admin string in its place.
"""

from __future__ import annotations

import base64
import hmac
from pathlib import Path

from eightflow.server.auth import auth_string, credential
from eightflow.settings import get_settings, user_path

RUNNER_FILE = "runner-auth"
RUNNER_USER = "runner"
ADMIN = "admin"
RUNNER = "runner"


def runner_auth(create: bool = True, home: Path | None = None) -> str | None:
    """The runner credential: read from ``EIGHTFLOW_HOME/runner-auth``, or made (0600)."""
    return credential(user_path(home or get_settings().home) / RUNNER_FILE, RUNNER_USER, create)


class Credentials:
    """Who a request is: the admin, a runner, or nobody."""

    def __init__(self, admin: str | None, runner: str | None) -> None:
        self.admin = admin
        self.runner = runner

    @classmethod
    def of_home(cls, home: Path) -> Credentials:
        return cls(auth_string(create=False, home=home), runner_auth(create=False, home=home))

    @property
    def auth_on(self) -> bool:
        return self.admin is not None

    def role_of_token(self, token: str | None) -> str | None:
        if not self.auth_on:
            return ADMIN  # auth off (loopback only): Prefect itself has no roles then
        if not token:
            return None
        given = token.encode()
        if self.admin and hmac.compare_digest(given, self.admin.encode()):
            return ADMIN
        if self.runner and hmac.compare_digest(given, self.runner.encode()):
            return RUNNER
        return None

    def role_of_header(self, header: str | None) -> str | None:
        """The role of an ``Authorization: Basic <base64(credential)>`` header."""
        if not self.auth_on:
            return ADMIN
        try:
            scheme, encoded = (header or "").split(None, 1)
            if scheme.lower() != "basic":
                return None
            token = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except ValueError:
            return None
        return self.role_of_token(token)

    def admin_header(self) -> str | None:
        if self.admin is None:
            return None
        return "Basic " + base64.b64encode(self.admin.encode()).decode()
