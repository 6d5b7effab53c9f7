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


def _front(tmp_path: Path, extra: str, body: str = "## user\n{{ document }}\n") -> Path:
    return _write(tmp_path, body, extra)


@pytest.mark.parametrize("output", ["this:Foo", "os:system", "evil_schema:Evil", "this"])
def test_output_never_imports_a_module(
    tmp_path: Path, output: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """``output: "this:Foo"`` printed the Zen of Python; a .py beside the prompts ran."""
    marker = tmp_path / "ran"
    (tmp_path / "evil_schema.py").write_text(f"open({str(marker)!r}, 'w').close()\nEvil = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    path = _front(tmp_path, f"output: '{output}'\n")
    with pytest.raises(PromptError, match=r"evil\.v1\.md|evil@v1"):
        PromptRegistry(tmp_path).get("evil").output_schema  # noqa: B018
    assert not marker.exists()
    assert "Beautiful is better than ugly" not in capsys.readouterr().out
    assert path.exists()


@pytest.mark.parametrize(
    ("allowed", "model", "refused"),
    [
        ("openai/gpt-4o-mini", "openai/gpt-4o", True),
        ("openai/gpt-4o-mini,anthropic/claude-3-5-haiku", "anthropic/claude-3-5-haiku", False),
        ("", "openai/gpt-4o", False),  # no operator list: no form is in play
    ],
)
def test_a_front_matter_model_must_be_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allowed: str, model: str, refused: bool
) -> None:
    monkeypatch.setenv("EIGHTFLOW_ALLOWED_MODELS", allowed)
    path = _front(tmp_path, f"model: {model}\n")
    if not refused:
        assert parse_prompt_file(path).model == model
        return
    with pytest.raises(PromptError, match=rf"evil\.v1\.md.*'{model}' is not allowed"):
        parse_prompt_file(path)


def test_a_model_allowed_at_load_is_checked_again_at_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EIGHTFLOW_ALLOWED_MODELS", raising=False)
    prompt = parse_prompt_file(_front(tmp_path, "model: openai/gpt-4o\n"))
    monkeypatch.setenv("EIGHTFLOW_ALLOWED_MODELS", "openai/gpt-4o-mini")
    with pytest.raises(PromptError, match=r"evil\.v1\.md.*not allowed"):
        prompt.render("text")


@pytest.mark.parametrize(
    "expression",
    [
        "'a' * 300000000",
        "300000000 * 'a'",
        "['a'] * 300000000",
        "'a' * 3000 * 3000",
        "9 ** 99999999",
        "'%999999999s' % 'x'",
        "'%*s' % (999999999, 'x')",
        "'{:>999999999}' | format('x')",
        "'{}'.format('x')",
        "'x'.center(999999999)",
        "'x'.ljust(999999999)",
        "'x' | center(999999999)",
        "document | replace('', document * 2000)",
        "document.replace('', document * 2000)",
        "range(9999) | join(document * 2000)",
        "(document * 2000).join(range(9999))",
        "document | indent(999999999)",
        "range(99999999) | list",
        "lipsum(99999)",
        "[document * 2000] * 9000",
        "([document * 2000] * 9000) | string",
        "([document * 2000] * 9000) | tojson",
        "{'a': [1, 2, 3]} | tojson(indent=999999999)",
        "('a.com ' * 500000) | urlize(target=document * 1000)",
        "range(9999) | map('center', 999999999) | list",
    ],
)
def test_a_template_cannot_grow_without_bound(tmp_path: Path, expression: str) -> None:
    """``{{'a'*300000000}}`` took 1.2 GB; each of these ends in an error naming the file."""
    body = "## user\n{{ document }}{{ " + expression + " }}\n"
    prompt = parse_prompt_file(_write(tmp_path, body))
    with pytest.raises(PromptError, match=r"evil@v1.*evil\.v1\.md|evil\.v1\.md"):
        prompt.render("x" * 1000)


@pytest.mark.parametrize(
    "body",
    [
        "{% for i in range(9999) %}{% for j in range(9999) %}{% for k in range(9999) %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        "{% set s = namespace(t='ab') %}{% for i in range(60) %}{% set s.t = s.t ~ s.t %}"
        "{% endfor %}{{ s.t }}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(60) }}",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{% for i in range(9999) %}{% for c in document %}{{ document }}{% endfor %}{% endfor %}",
    ],
)
def test_a_template_cannot_run_without_bound(
    tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import eightflow.prompts.sandbox as sandbox

    monkeypatch.setattr(sandbox, "MAX_RENDER_SECONDS", 0.5)
    prompt = parse_prompt_file(_write(tmp_path, "## user\n{{ document }}" + body + "\n"))
    started = time.monotonic()
    with pytest.raises(PromptError, match=r"evil\.v1\.md"):
        prompt.render("x" * 1000)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{{ document | upper }}", "TEXT"),
        ("{% for w in document.split() %}[{{ w }}]{% endfor %}", "[text]"),
        ("{{ ['a', 'b'] | join(', ') }} {{ document | replace('t', 'T') }}", "a, b TexT"),
        ("{{ '-' * 3 }}{{ document ~ '!' }}{{ '%s.' % document }}", "---text!text."),
        ("{{ document | indent(2, first=True) }} {{ range(3) | list }}", "  text [0, 1, 2]"),
    ],
)
def test_ordinary_templates_still_render(tmp_path: Path, body: str, expected: str) -> None:
    prompt = parse_prompt_file(_write(tmp_path, "## user\n{{ document }}|" + body + "\n"))
    assert prompt.render("text")[0]["content"] == "text|" + expected
