"""Attack: a prompt file runs code (unsandboxed Jinja2) or points calls elsewhere
(front-matter params copied into the litellm request)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eightflow.errors import PromptError
from eightflow.prompts import PromptRegistry, parse_prompt_file

HEADER = "---\nid: evil\nversion: 1\nvariables: [document]\ninput: document\n{params}---\n"


def _write(tmp_path: Path, body: str, params: str = "") -> Path:
    path = tmp_path / "evil.v1.md"
    path.write_text(HEADER.format(params=params) + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "expression",
    [
        "lipsum.__globals__['os'].popen('touch {marker}').read()",
        "cycler.__init__.__globals__.os.popen('touch {marker}').read()",
        "''.__class__.__mro__[1].__subclasses__()",
        "document.__class__.__base__.__subclasses__()",
    ],
)
def test_a_prompt_body_cannot_reach_python(tmp_path: Path, expression: str) -> None:
    marker = tmp_path / "pwned"
    body = "## user\n{{ document }} {{ " + expression.format(marker=marker) + " }}\n"
    prompt = parse_prompt_file(_write(tmp_path, body))
    with pytest.raises(PromptError, match="evil"):
        prompt.render("text")
    assert not marker.exists()


@pytest.mark.parametrize(
    "param",
    ["api_base: http://127.0.0.1:9/v1", "api_key: sk-x", "extra_headers: {X-A: b}",
     "base_url: http://x", "headers: {a: b}", "custom_llm_provider: openai"],
)  # fmt: skip
def test_front_matter_params_are_sampling_only(tmp_path: Path, param: str) -> None:
    path = _write(tmp_path, "## user\n{{ document }}\n", f"params:\n  {param}\n")
    with pytest.raises(PromptError, match=r"evil\.v1\.md.*not allowed"):
        parse_prompt_file(path)


def test_sampling_params_are_accepted(tmp_path: Path) -> None:
    params = "params:\n  temperature: 0\n  max_tokens: 10\n  top_p: 1\n  seed: 3\n  stop: [x]\n"
    prompt = parse_prompt_file(_write(tmp_path, "## user\n{{ document }}\n", params))
    assert prompt.params["seed"] == 3


def test_shipped_prompts_all_load() -> None:
    assert len(PromptRegistry().all()) >= 8
