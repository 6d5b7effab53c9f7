"""Versioned prompt files: parsing, the registry, rendering and malformed files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from eightflow import Prompt, PromptError, PromptRegistry
from eightflow.prompts import parse_prompt_file

REPO = Path(__file__).resolve().parents[2]
PROMPT_FILES = sorted((REPO / "prompts").glob("*.md"))


def test_the_repo_has_the_seed_prompts() -> None:
    assert {p.name for p in PROMPT_FILES} >= {
        "summarization.v1.md",
        "topic_extraction.v1.md",
        "sentiment.v1.md",
        "entities.v1.md",
    }


@pytest.mark.parametrize("path", PROMPT_FILES, ids=lambda p: p.name)
def test_every_prompt_file_parses(path: Path) -> None:
    prompt = parse_prompt_file(path)
    stem = re.match(r"(.+)\.v(\d+)\.md$", path.name)
    assert stem is not None
    assert (prompt.id, prompt.version) == (stem[1], int(stem[2]))
    assert prompt.user.strip() and prompt.description
    assert set(prompt.variables) == prompt.template_variables()
    assert prompt.input is None or prompt.input in prompt.variables
    assert re.fullmatch(r"[0-9a-f]{12}", prompt.hash)
    if prompt.output:
        schema = prompt.output_schema
        assert isinstance(schema, type) and issubclass(schema, BaseModel)
    # Rendering with every variable works and puts the value in the user message.
    messages = prompt.render(**dict.fromkeys(prompt.variables, "VALUE-123"))
    assert messages[-1]["role"] == "user" and "VALUE-123" in messages[-1]["content"]
    assert "{{" not in messages[-1]["content"]


@pytest.mark.parametrize("path", PROMPT_FILES, ids=lambda p: p.name)
def test_render_without_a_variable_names_prompt_and_variable(path: Path) -> None:
    prompt = parse_prompt_file(path)
    assert prompt.variables
    for missing in prompt.variables:
        given = {v: "x" for v in prompt.variables if v != missing}
        with pytest.raises(PromptError) as info:
            prompt.render(**given)
        message = str(info.value)
        assert f"'{prompt.id}@v{prompt.version}'" in message
        assert f"needs variable '{missing}'" in message
    with pytest.raises(PromptError, match=rf"'{re.escape(prompt.ref)}' needs variable"):
        prompt.render()


def test_positional_input_fills_the_input_variable() -> None:
    prompt = PromptRegistry(REPO / "prompts").get("summarization")
    assert prompt.input == "document"
    messages = prompt.render("the text")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "<document>\nthe text\n</document>" in messages[1]["content"]


def test_positional_input_needs_an_input_variable(tmp_path: Path) -> None:
    write(tmp_path, "named.v1.md", variables="[a]", user="{{ a }}", input_line="")
    prompt = PromptRegistry(tmp_path).get("named")
    with pytest.raises(PromptError, match="'named@v1' takes no positional input"):
        prompt.render("x")
    assert prompt.render(a="y")[-1]["content"] == "y"


# -- the registry ----------------------------------------------------------------------


def write(
    folder: Path,
    name: str,
    *,
    id: str | None = None,
    version: int | None = None,
    variables: str = "[document]",
    user: str = "Do it.\n\n{{ document }}",
    system: str | None = "You are careful.",
    input_line: str = "input: document",
    output: str | None = None,
) -> Path:
    match = re.match(r"(.+)\.v(\d+)\.md$", name)
    assert match
    front = [
        f"id: {id or match[1]}",
        f"version: {version if version is not None else int(match[2])}",
        "description: test prompt",
        f"variables: {variables}",
    ]
    if input_line:
        front.append(input_line)
    if output:
        front.append(f"output: {output}")
    body = (f"## system\n{system}\n\n" if system is not None else "") + f"## user\n{user}\n"
    path = folder / name
    path.write_text("---\n" + "\n".join(front) + "\n---\n" + body)
    return path


@pytest.fixture
def versions(tmp_path: Path) -> PromptRegistry:
    write(tmp_path, "x.v1.md", user="one {{ document }}")
    write(tmp_path, "x.v2.md", user="two {{ document }}")
    write(tmp_path, "x.v10.md", user="ten {{ document }}")
    write(tmp_path, "y.v3.md")
    return PromptRegistry(tmp_path)


def test_get_gives_the_newest_version(versions: PromptRegistry) -> None:
    prompt = versions.get("x")
    assert prompt.version == 10 and prompt.ref == "x@v10"  # numeric, not lexical
    assert prompt.render("d")[-1]["content"] == "ten d"


@pytest.mark.parametrize(("ref", "version"), [("x@v1", 1), ("x@v2", 2), ("x@2", 2), ("y@v3", 3)])
def test_get_pins_a_version(versions: PromptRegistry, ref: str, version: int) -> None:
    assert versions.get(ref).version == version


@pytest.mark.parametrize(
    ("ref", "lists"),
    [
        ("x@v4", ["has: v1, v2, v10", "'x'", "'v4'"]),
        ("x@latest", ["has: v1, v2, v10"]),
        ("y@v1", ["has: v3"]),
        ("nope", ["'nope'", "known: x, y"]),
        ("nope@v1", ["'nope'", "known: x, y"]),
    ],
)
def test_unknown_version_or_id_lists_what_exists(
    versions: PromptRegistry, ref: str, lists: list[str]
) -> None:
    with pytest.raises(PromptError) as info:
        versions.get(ref)
    for text in lists:
        assert text in str(info.value)


def test_fingerprint_and_all(versions: PromptRegistry) -> None:
    prints = versions.fingerprint()
    assert set(prints) == {"x@v10", "y@v3"}
    assert prints["x@v10"] == versions.get("x@v10").hash
    assert set(versions.fingerprint(["x@v1"])) == {"x@v1"}
    assert len(versions.all()) == 4
    assert len({p.hash for p in versions.all()}) == 4


def test_missing_folder_is_a_prompt_error(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="does not exist"):
        PromptRegistry(tmp_path / "absent").get("x")


@pytest.mark.parametrize(
    "output", ["eightflow_app.tasks.analysis.schemas:NoSuchModel", "pathlib:Path", "a.b", "x y"]
)
def test_an_output_that_is_not_a_schema_name_is_refused_naming_the_file(
    tmp_path: Path, output: str
) -> None:
    write(tmp_path, "s.v1.md", output=output)
    with pytest.raises(PromptError, match=r"s\.v1\.md.*'output'.*never a module"):
        PromptRegistry(tmp_path).get("s")


def test_output_schema_that_is_not_a_model(tmp_path: Path) -> None:
    write(tmp_path, "s.v1.md", output="Plain")
    schemas: dict[str, Any] = {"Plain": Path}
    with pytest.raises(PromptError, match="not a pydantic model"):
        PromptRegistry(tmp_path, schemas=schemas).get("s").output_schema  # noqa: B018


# -- malformed files -------------------------------------------------------------------


def _no_front_matter(folder: Path) -> Path:
    path = folder / "bare.v1.md"
    path.write_text("## user\n{{ document }}\n")
    return path


def _front_matter_not_a_mapping(folder: Path) -> Path:
    path = folder / "listy.v1.md"
    path.write_text("---\n- a\n- b\n---\n## user\nhi\n")
    return path


def _unreadable_yaml(folder: Path) -> Path:
    path = folder / "broken.v1.md"
    path.write_text("---\nid: [unclosed\n---\n## user\nhi\n")
    return path


MALFORMED = [
    pytest.param(_no_front_matter, "front matter", id="no front matter"),
    pytest.param(_front_matter_not_a_mapping, "mapping", id="front matter not a mapping"),
    pytest.param(_unreadable_yaml, "front matter", id="unreadable yaml"),
    pytest.param(lambda f: write(f, "named.v1.md", id="other"), "'id'", id="id mismatch"),
    pytest.param(lambda f: write(f, "named.v1.md", version=2), "'version'", id="version mismatch"),
    pytest.param(
        lambda f: write(f, "vars.v1.md", variables="[document, extra]"),
        "declared variables",
        id="declared variable unused",
    ),
    pytest.param(
        lambda f: write(f, "vars.v1.md", user="{{ document }} {{ other }}"),
        "declared variables",
        id="template variable undeclared",
    ),
    pytest.param(
        lambda f: write(f, "inp.v1.md", input_line="input: text"),
        "input 'text'",
        id="input not declared",
    ),
    pytest.param(
        lambda f: (
            (f / "nouser.v1.md").write_text(
                "---\nid: nouser\nversion: 1\nvariables: []\n---\n## system\nBe nice.\n"
            )
            and f / "nouser.v1.md"
        ),
        "'## user'",
        id="missing user section",
    ),
    pytest.param(
        lambda f: (
            (f / "nosect.v1.md").write_text(
                "---\nid: nosect\nversion: 1\nvariables: []\n---\nJust text.\n"
            )
            and f / "nosect.v1.md"
        ),
        "'## user'",
        id="no sections at all",
    ),
    pytest.param(
        lambda f: (
            (f / "twice.v1.md").write_text(
                "---\nid: twice\nversion: 1\nvariables: []\n---\n## user\na\n## user\nb\n"
            )
            and f / "twice.v1.md"
        ),
        "twice",
        id="section twice",
    ),
    pytest.param(
        lambda f: (
            (f / "Bad_Name.md").write_text("---\nid: x\n---\n## user\nhi\n") and f / "Bad_Name.md"
        ),
        "<id>.v<N>.md",
        id="bad file name",
    ),
]


@pytest.mark.parametrize(("make", "phrase"), MALFORMED)
def test_malformed_files_name_the_file(tmp_path: Path, make: object, phrase: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    assert isinstance(path, Path) and path.exists()
    with pytest.raises(PromptError) as info:
        parse_prompt_file(path)
    assert str(path) in str(info.value)
    assert phrase in str(info.value)
    # The registry surfaces the same error rather than skipping the file.
    with pytest.raises(PromptError) as via_registry:
        PromptRegistry(tmp_path).all()
    assert str(path) in str(via_registry.value)


def test_prompt_is_frozen_and_has_a_ref() -> None:
    prompt = PromptRegistry(REPO / "prompts").get("sentiment@v1")
    assert isinstance(prompt, Prompt) and prompt.ref == "sentiment@v1"
    with pytest.raises(Exception, match="frozen"):
        prompt.user = "changed"  # type: ignore[misc]


# -- where prompts and schemas come from -----------------------------------------------


class Answer(BaseModel):
    text: str


def test_a_schema_name_resolves_from_the_schemas_given(tmp_path: Path) -> None:
    write(tmp_path, "s.v1.md", output="Answer")
    assert PromptRegistry(tmp_path, schemas={"Answer": Answer}).get("s").output_schema is Answer


def test_an_unknown_schema_name_is_an_error_naming_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "s.v1.md", output="Missing")
    prompt = PromptRegistry(tmp_path, schemas={"Answer": Answer}).get("s")
    with pytest.raises(PromptError, match=r"'s@v1'.*'Missing'.*known: Answer"):
        prompt.output_schema  # noqa: B018


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("summarization", "eightflow_app.tasks.analysis.schemas:Summary"),
        ("action_items", "eightflow_app.tasks.triage.schemas:ActionItems"),
        ("workflow_planning", "eightflow.planning.step_factory:Plan"),
    ],
)
def test_shipped_prompts_name_schemas_the_app_registers(
    name: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No prompts folder configured: the shipped prompts, through importlib.resources;
    their schema names resolve through the eightflow.schemas entry points."""
    monkeypatch.delenv("EIGHTFLOW_PROMPTS_DIR", raising=False)
    monkeypatch.chdir(REPO / "examples")  # the working folder plays no part
    prompt = PromptRegistry().get(name)
    schema_class = prompt.output_schema
    assert schema_class is not None
    assert f"{schema_class.__module__}:{schema_class.__name__}" == schema
    assert ":" not in (prompt.output or "")  # a name, not an import path into the app


def test_the_prompts_folder_setting_replaces_the_shipped_prompts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "mine.v1.md")
    monkeypatch.setenv("EIGHTFLOW_PROMPTS_DIR", str(tmp_path))
    registry = PromptRegistry()
    assert [p.id for p in registry.all()] == ["mine"]
    with pytest.raises(PromptError, match="no prompt 'summarization'"):
        registry.get("summarization")


def test_the_shipped_prompts_package_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every output folder check asks for the shipped prompts; the entry point scan is not
    repeated each time."""
    from importlib import metadata

    from eightflow import prompts

    scans: list[str] = []
    real = metadata.entry_points

    def counting(**kwargs: Any) -> Any:
        scans.append(kwargs["group"])
        return real(**kwargs)

    monkeypatch.delenv("EIGHTFLOW_PROMPTS_DIR", raising=False)
    monkeypatch.setattr(metadata, "entry_points", counting)
    prompts._registered_prompts_package.cache_clear()
    try:
        folders = {str(prompts.default_prompts_dir()) for _ in range(3)}
    finally:
        prompts._registered_prompts_package.cache_clear()
    assert scans == ["eightflow.prompts"]
    assert len(folders) == 1 and (Path(folders.pop()) / "summarization.v1.md").exists()
