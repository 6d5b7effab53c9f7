"""The e2e stack helper's environments: nothing of the outside's Prefect or eightflow leaks
into a stack, and the homes are private (no stack is started here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.stack import isolated_env, private_homes_here

OUTSIDE = {
    "PREFECT_API_URL": "http://127.0.0.1:4200/api",
    "PREFECT_API_AUTH_STRING": "admin:outside",
    "EIGHTFLOW_DATA_ROOTS": "/srv/outside",
    "EIGHTFLOW_API_BASE": "http://127.0.0.1:9/v1",
    "EIGHTFLOW_CONFIGURE_PROFILE": "1",
    "UNRELATED_VARIABLE": "kept",
}


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in OUTSIDE.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PREFECT_API_URL", None),
        ("PREFECT_API_AUTH_STRING", None),
        ("EIGHTFLOW_DATA_ROOTS", None),
        ("EIGHTFLOW_API_BASE", None),
        ("UNRELATED_VARIABLE", "kept"),
        ("EIGHTFLOW_HOME", "{base}/home"),
        ("PREFECT_HOME", "{base}/prefect-home"),
        ("PREFECT_PROFILES_PATH", "{base}/prefect-home/profiles.toml"),
        ("EIGHTFLOW_AUTO_SERVER", "0"),
        ("EIGHTFLOW_CONFIGURE_PROFILE", "0"),
        ("LITELLM_OFFLINE_MODE", "true"),
    ],
)
@pytest.mark.usefixtures("outside")
def test_isolated_env_keeps_nothing_of_the_outside(
    tmp_path: Path, name: str, expected: str | None
) -> None:
    env = isolated_env(tmp_path)
    assert env.get(name) == (None if expected is None else expected.format(base=tmp_path))


@pytest.mark.usefixtures("outside")
def test_the_tests_variables_come_last_and_prefect_home_exists(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, EIGHTFLOW_CONFIGURE_PROFILE="1", EIGHTFLOW_DATA_ROOTS="/d")
    assert (env["EIGHTFLOW_CONFIGURE_PROFILE"], env["EIGHTFLOW_DATA_ROOTS"]) == ("1", "/d")
    assert (tmp_path / "prefect-home").is_dir()
    assert not (tmp_path / "home").exists()  # eightflow makes it, private (0700)


@pytest.mark.usefixtures("outside")
def test_private_homes_here_drops_the_outside_server_and_restores_it(tmp_path: Path) -> None:
    with private_homes_here(tmp_path) as homes:
        assert os.environ["EIGHTFLOW_HOME"] == homes["EIGHTFLOW_HOME"] == str(tmp_path / "home")
        assert "PREFECT_API_URL" not in os.environ
        assert "PREFECT_API_AUTH_STRING" not in os.environ  # nor the outside's credential
    assert os.environ["PREFECT_API_URL"] == OUTSIDE["PREFECT_API_URL"]
    assert os.environ["PREFECT_API_AUTH_STRING"] == OUTSIDE["PREFECT_API_AUTH_STRING"]
    assert os.environ["EIGHTFLOW_HOME"] != str(tmp_path / "home")
