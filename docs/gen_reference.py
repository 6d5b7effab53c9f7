"""The generated reference pages: every CLI command and option, every ``EIGHTFLOW_*`` setting.

Both pages are built from the code (the typer app with its plug-in commands, the settings
model), so they cannot drift from it. ``docs/hooks.py`` adds them to the site at build time;
``tests/docs/test_references.py`` checks that nothing is missing from them.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path

# Variables read outside the settings model, with where they are read and what they do.
OTHER_VARIABLES: dict[str, tuple[str, str, str]] = {
    "EIGHTFLOW_ALLOWED_MODELS": (
        "`eightflow/safety/form_types.py`",
        "`EIGHTFLOW_MODEL`, the fallback models and `local/embedded`",
        "Comma-separated models a Run form (or a flow parameter) may choose.",
    ),
    "EIGHTFLOW_ALLOWED_API_BASES": (
        "`eightflow/gateway/endpoints.py`",
        "unset",
        "Comma-separated base URLs, besides the provider's own and `EIGHTFLOW_API_BASE`, "
        "to which a provider key may be sent.",
    ),
    "EIGHTFLOW_DATA_ROOTS": (
        "`eightflow/safety/path_roots.py`",
        "unset (any path); `stack up` sets the folder it started in",
        "Folders (separated by `:` or `,`) that runs may read documents from.",
    ),
    "EIGHTFLOW_OUT_ROOT": (
        "`eightflow/safety/path_roots.py`",
        "unset (any path); `stack up` sets the folder it started in",
        "The folder that runs may write outputs under (never `prompts/` or `EIGHTFLOW_HOME`).",
    ),
    "EIGHTFLOW_LOADER_WORKERS": (
        "`tasks/loading/sandbox.py`",
        "2",
        "Processes in the loader sandbox that parses PDF, DOCX, HTML and CSV files.",
    ),
    "EIGHTFLOW_LOADER_TIMEOUT_S": (
        "`tasks/loading/sandbox.py`",
        "30",
        "Wall-clock limit for parsing one file, in seconds.",
    ),
    "EIGHTFLOW_LOADER_MEMORY_MB": (
        "`tasks/loading/sandbox.py`",
        "1024",
        "Memory ceiling of a loader worker, in MiB above its idle size.",
    ),
    "EIGHTFLOW_LOADER_SANDBOX": (
        "`tasks/loading/sandbox.py`",
        "1",
        "`0` parses every file in-process, without the sandbox.",
    ),
    "EIGHTFLOW_PROJECT_DIR": (
        "`prefect.yaml`, set by `eightflow stack up`",
        "the project folder",
        "The folder a deployment's pull step changes to before a run.",
    ),
    "EIGHTFLOW_FAILPOINT": (
        "`eightflow/runtime/failpoints.py`",
        "unset",
        "Testing only: `point:N` kills the process at the N-th hit of a named point "
        "(the chaos suite's `kill -9` tests).",
    ),
}


def cli_command() -> typing.Any:
    """The ``eightflow`` command tree, with the commands plug-ins add (``eightflow stack``)."""
    import typer

    from eightflow.cli.main import app

    return typer.main.get_command(app)


def iter_commands(
    command: typing.Any, path: tuple[str, ...] = ("eightflow",)
) -> Iterator[tuple[tuple[str, ...], typing.Any]]:
    """Every command and group under ``command``, depth first, in name order."""
    yield path, command
    if _is_group(command):
        for name in sorted(command.commands):
            yield from iter_commands(command.commands[name], (*path, name))


def _is_group(command: typing.Any) -> bool:
    # typer 0.2x vendors its own click: go by shape, not by class.
    return isinstance(getattr(command, "commands", None), dict)


def _is_argument(param: typing.Any) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _param_names(param: typing.Any) -> str:
    if _is_argument(param):
        return f"`{(param.metavar or param.name).upper()}`"
    names = [*param.opts, *getattr(param, "secondary_opts", [])]
    return ", ".join(f"`{name}`" for name in names)


def _param_default(param: typing.Any) -> str:
    if _is_argument(param):
        return "required" if param.required else "optional"
    if getattr(param, "is_flag", False):
        return "on" if param.default else "off"
    default = param.default
    if default is None or default == () or default == []:
        return "required" if param.required else ""
    return f"`{default}`"


def _param_type(param: typing.Any) -> str:
    if getattr(param, "is_flag", False):
        return "flag"
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    if annotation is None:  # a plain click parameter
        name = getattr(getattr(param, "type", None), "name", "")
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        name = " | ".join(str(member.value) for member in annotation)
    elif typing.get_origin(annotation) is typing.Literal:
        name = " | ".join(str(value) for value in typing.get_args(annotation))
    else:
        name = _type_name(annotation)
    if getattr(param, "multiple", False):
        name = re.sub(r"^list\[(.*)\]$", r"\1", name) + ", repeatable"
    bounds = [
        f"{label} {value}"
        for label, value in (
            ("min", getattr(param, "min", None)),
            ("max", getattr(param, "max", None)),
        )
        if value is not None
    ]
    if bounds:
        name += f" ({', '.join(bounds)})"
    return _cell(name)


def cli_reference() -> str:
    """Markdown: one section per command with its usage, help, arguments and options."""
    lines = [
        "# CLI reference",
        "",
        "Generated from the `eightflow` command itself (with the commands plug-ins add, such "
        "as `eightflow stack`) each time the docs are built. `eightflow COMMAND --help` "
        "prints the same.",
        "",
    ]
    for path, command in iter_commands(cli_command()):
        if command.hidden:
            continue
        name = " ".join(path)
        lines += [f"## `{name}`", "", "```", usage(command, name), "```", ""]
        help_text = (command.help or "").strip()
        if help_text:
            lines += [inspect_clean(help_text), ""]
        if _is_group(command):
            subs = [n for n, c in sorted(command.commands.items()) if not c.hidden]
            lines += ["Commands: " + ", ".join(f"`{name} {sub}`" for sub in subs), ""]
        params = [p for p in command.params if not getattr(p, "hidden", False)]
        params = [p for p in params if p.name != "help"]
        if params:
            lines += ["| argument or option | type | default | what it does |", "|---|---|---|---|"]
            for param in params:
                help_cell = _cell(getattr(param, "help", None) or "")
                lines.append(
                    f"| {_param_names(param)} | {_param_type(param)} | "
                    f"{_cell(_param_default(param))} | {help_cell} |"
                )
            lines.append("")
    return "\n".join(lines)


def usage(command: typing.Any, name: str) -> str:
    """The command's usage line, as ``--help`` prints it."""
    pieces = command.collect_usage_pieces(command.context_class(command, info_name=name))
    text = " ".join([name, *pieces])
    return "Usage: " + re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), text)


def inspect_clean(text: str) -> str:
    """A docstring as markdown: dedented, with click's ``\\b`` no-rewrap markers removed."""
    import inspect

    return inspect.cleandoc(text).replace("\b\n", "")


def _env_name(name: str, field: typing.Any) -> str:
    from pydantic import AliasChoices

    from eightflow.settings import PREFIX

    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return PREFIX + name.upper()


def _type_name(annotation: typing.Any) -> str:
    """A type as a reader would write it: ``str | None``, ``'fork' | 'spawn'``, ``list[str]``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in args)
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', origin)}[{', '.join(map(_type_name, args))}]"
    if annotation is type(None):
        return "None"
    return str(getattr(annotation, "__name__", annotation))


def _default(field: typing.Any) -> str:
    value = field.default_factory() if field.default_factory is not None else field.default
    if value is None:
        return "unset"
    if isinstance(value, Path):
        home = str(Path.home())
        text = str(value)
        return "`~" + text[len(home) :] + "`" if text.startswith(home) else f"`{text}`"
    if value in ([], {}):
        return "empty"
    return f"`{value}`"


def settings_rows() -> list[tuple[str, str, str, str]]:
    """(variable, type, default, meaning) for every field of the settings model."""
    from eightflow.settings import Settings

    rows = []
    for name, field in Settings.model_fields.items():
        env = _env_name(name, field)
        description = field.description or ""
        description = re.sub(rf"^{re.escape(env)}:?\s*", "", description)
        description = description[:1].upper() + description[1:]
        rows.append((env, _type_name(field.annotation), _default(field), description))
    return rows


def settings_reference() -> str:
    """Markdown: the settings model's variables, then those read elsewhere."""
    lines = [
        "# Settings reference",
        "",
        "eightflow reads its settings from `EIGHTFLOW_*` environment variables through one "
        "pydantic-settings model, `eightflow.settings.Settings`. An empty variable counts as "
        "unset. A value that does not parse (`EIGHTFLOW_SERVER_PORT=http`) stops the command "
        "with an error naming the variable. This page is generated from the model each time "
        "the docs are built.",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for env, type_name, default, description in settings_rows():
        lines.append(f"| `{env}` | `{_cell(type_name)}` | {default} | {_cell(description)} |")
    lines += [
        "",
        "## Read outside the settings model",
        "",
        "These are read where they are used (the operator's limits for Run forms, the "
        "loader sandbox, deployments).",
        "",
        "| variable | read in | default | meaning |",
        "|---|---|---|---|",
    ]
    for env, (where, default, meaning) in sorted(OTHER_VARIABLES.items()):
        lines.append(f"| `{env}` | {where} | {_cell(default)} | {_cell(meaning)} |")
    lines.append("")
    return "\n".join(lines)
