"""mkdocs hooks: add the generated reference pages (CLI, settings) to the site at build time,
and show the docstrings' Sphinx roles (``:class:`Plan```) as plain code."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GENERATED = {
    "reference/cli.md": "cli_reference",
    "reference/settings.md": "settings_reference",
}


def on_startup(**_: Any) -> None:
    # Building the docs imports the CLI: keep litellm offline, as everywhere else.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    from docs import gen_reference

    for uri, function in GENERATED.items():
        content = getattr(gen_reference, function)()
        files.append(File.generated(config, uri, content=content))
    return files


SPHINX_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):(?=<code)")


def on_page_content(html: str, **_: Any) -> str:
    return SPHINX_ROLE.sub("", html)
