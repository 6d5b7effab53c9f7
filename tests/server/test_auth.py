"""``server stop`` asks Prefect about its profile only when the profile could name the
server: ``_profiles_may_mention`` may say "no" only when that is sure. (The whole command,
profile taken back or left alone, is in tests/cli/test_main.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eightflow.server.auth import _profiles_may_mention

URL = "http://127.0.0.1:4200/api"
OTHER = "http://127.0.0.1:1/api"


@pytest.mark.parametrize(
    ("profile_names", "variables", "local_file", "may"),
    [
        (URL, {"PREFECT_HOME": "{home}"}, None, True),
        (OTHER, {"PREFECT_HOME": "{home}"}, None, False),
        (None, {"PREFECT_HOME": "{home}"}, None, False),  # no profiles file at all
        (URL, {"PREFECT_PROFILES_PATH": "{home}/profiles.toml"}, None, True),
        (OTHER, {"PREFECT_PROFILES_PATH": "{home}/profiles.toml"}, None, False),
        # Prefect could read its settings otherwise: asked, whatever the file says.
        (OTHER, {"PREFECT_HOME": "{home}"}, ("prefect.toml", "[api]\n"), True),
        (OTHER, {"PREFECT_HOME": "{home}"}, (".env", "prefect_home=/elsewhere\n"), True),
        (OTHER, {"PREFECT_HOME": "{home}"}, ("pyproject.toml", "[tool.prefect]\n"), True),
        (OTHER, {"PREFECT_HOME": "{home}"}, (".env", "OTHER=1\n"), False),
        (OTHER, {"PREFECT_HOME": "{home}"}, ("pyproject.toml", "[tool.ruff]\n"), False),
        (OTHER, {"PREFECT_HOME": "{home}", "prefect_profiles_path": "/x.toml"}, None, True),
        (OTHER, {"PREFECT_HOME": "{home}", "PREFECT_PROFILES_PATH": ""}, None, True),
        (OTHER, {"PREFECT_PROFILES_PATH": "~/profiles.toml"}, None, True),
        (OTHER, {"PREFECT_PROFILES_PATH": "${{PREFECT_HOME}}/profiles.toml"}, None, True),
    ],
)
def test_prefect_is_asked_unless_the_profile_surely_does_not_name_the_server(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    profile_names: str | None,
    variables: dict[str, str],
    local_file: tuple[str, str] | None,
    may: bool,
) -> None:
    home, here = tmp_path / "prefect-home", tmp_path / "cwd"
    home.mkdir()
    here.mkdir()
    if profile_names is not None:
        (home / "profiles.toml").write_text(
            f'active = "local"\n\n[profiles.local]\nPREFECT_API_URL = "{profile_names}"\n'
        )
    if local_file is not None:
        (here / local_file[0]).write_text(local_file[1])
    for name in [n for n in os.environ if n.upper().startswith("PREFECT_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(home=home))
    monkeypatch.chdir(here)
    assert _profiles_may_mention(URL) is may
