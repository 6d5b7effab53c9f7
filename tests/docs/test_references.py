"""The generated references miss nothing: every command, option and setting is in them.

Fast: the generators are called directly (no mkdocs build). ``test_site_builds.py`` builds
the whole site.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from docs import gen_reference

ROOT = Path(__file__).resolve().parents[2]
CLI_PAGE = gen_reference.cli_reference()
SETTINGS_PAGE = gen_reference.settings_reference()
README = (ROOT / "README.md").read_text()
SOURCES = [ROOT / "eightflow", ROOT / "flows", ROOT / "tasks", ROOT / "deployments"]


def commands() -> list[tuple[str, Any]]:
    tree = gen_reference.cli_command()
    return [(" ".join(path), command) for path, command in gen_reference.iter_commands(tree)]


def section(name: str) -> str:
    """The part of the CLI page about one command (up to the next command's heading)."""
    start = CLI_PAGE.index(f"## `{name}`\n")
    following = CLI_PAGE.find("\n## `", start + 1)
    return CLI_PAGE[start : following if following != -1 else None]


def variables_in_sources() -> set[str]:
    names: set[str] = set()
    files = [f for root in SOURCES for f in root.rglob("*.py")] + [ROOT / "prefect.yaml"]
    for path in files:
        names |= set(re.findall(r"\bEIGHTFLOW_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    return names - {"EIGHTFLOW_"}


@pytest.mark.parametrize(("name", "command"), commands(), ids=[n for n, _ in commands()])
def test_every_command_and_option_is_in_the_cli_reference(name: str, command: Any) -> None:
    text = section(name)
    for param in command.params:
        if getattr(param, "hidden", False) or param.name == "help":
            continue
        for flag in [*param.opts, *getattr(param, "secondary_opts", [])]:
            shown = flag if flag.startswith("-") else flag.upper()
            assert f"`{shown}`" in text, f"{name}: {shown} missing from the CLI reference"


def test_plug_in_commands_are_in_the_cli_reference() -> None:
    from importlib.metadata import entry_points

    import typer

    plugged = typer.Typer()
    for entry in entry_points(group="eightflow.cli"):
        entry.load()(plugged)
    names = list(typer.main.get_command(plugged).commands)  # type: ignore[attr-defined]
    assert names, "no eightflow.cli plug-in found"
    for name in names:
        assert f"## `eightflow {name}`" in CLI_PAGE


def test_help_texts_describe_behaviour_not_implementation() -> None:
    for name, command in commands():
        text = (command.help or "").lower()
        for note in ("heavy imports", "happen inside commands", "stay quick"):
            assert note not in text, f"{name}'s help talks about its implementation: {note!r}"


def test_every_setting_has_its_variable_type_default_and_meaning() -> None:
    from eightflow.settings import Settings

    rows = gen_reference.settings_rows()
    assert len(rows) == len(Settings.model_fields)
    for variable, type_name, default, meaning in rows:
        assert variable.isupper() and type_name and default, variable
        assert meaning, f"{variable} has no description in eightflow/settings.py"
        assert f"| `{variable}` |" in SETTINGS_PAGE


def test_every_variable_the_code_reads_is_in_the_settings_reference() -> None:
    documented = set(re.findall(r"\| `(EIGHTFLOW_[A-Z0-9_]+)` \|", SETTINGS_PAGE))
    missing = variables_in_sources() - documented
    assert not missing, f"add to eightflow/settings.py or OTHER_VARIABLES: {sorted(missing)}"


def test_the_python_api_page_lists_the_whole_public_api() -> None:
    import eightflow

    page = (ROOT / "docs" / "reference" / "python-api.md").read_text()
    listed = set(re.findall(r"^::: eightflow\.(\w+)$", page, flags=re.M))
    assert listed == set(eightflow.__all__)


@pytest.mark.parametrize(
    "command",
    [
        "pip install -e '.[dev]' && eightflow analyze examples/documents --out out/examples",
        "pip install -e '.[dev]' && scripts/test",
    ],
)
def test_the_readme_is_short_and_keeps_the_two_commands(command: str) -> None:
    assert len(README.splitlines()) <= 200
    assert f"\n{command}\n" in README


def test_every_test_the_security_page_names_exists() -> None:
    page = (ROOT / "docs" / "guides" / "security.md").read_text()
    sources = {path.name: path.read_text() for path in (ROOT / "tests").rglob("test_*.py")}
    files = set(re.findall(r"`(?:tests/\w+/)?(test_\w+\.py)", page))
    functions = set(re.findall(r"(?:::|`)(test_\w+)`", page)) - {f[:-3] for f in files}
    assert files and functions
    assert files <= set(sources), f"no such test file: {sorted(files - set(sources))}"
    every_test = "\n".join(sources.values())
    missing = [name for name in functions if f"def {name}(" not in every_test]
    assert not missing, f"the security page names tests that do not exist: {missing}"


def test_the_readme_links_to_files_that_exist() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert local
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"
