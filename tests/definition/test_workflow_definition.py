"""The definition layer: graph validation, the version hash, Mermaid and leaf dependencies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from eightflow import (
    Context,
    ParallelStep,
    PromptRegistry,
    RetryPolicy,
    Step,
    StepResult,
    WorkflowDefinition,
    WorkflowDefinitionError,
)

REPO = Path(__file__).resolve().parents[2]


async def h(context: Context) -> StepResult:
    return StepResult()


async def h_other(context: Context) -> StepResult:
    return StepResult(changed=True)


# Same qualified name as ``h`` but different source: only the source hash tells them apart.
h_other.__qualname__ = h.__qualname__
h_other.__name__ = h.__name__


def s(name: str, *deps: str, **kw: object) -> Step:
    return Step(name=name, handler=kw.pop("handler", h), depends_on=list(deps), **kw)  # type: ignore[arg-type]


def group(name: str, *subs: Step, deps: tuple[str, ...] = ()) -> Step:
    return Step(name=name, handler=ParallelStep(list(subs)), depends_on=list(deps))


# -- definition errors --------------------------------------------------------------------


DEFINITION_ERRORS: list[tuple[str, Callable[[], list[Step]], str]] = [
    ("cycle of 2", lambda: [s("a", "b"), s("b", "a")], r"^dependency cycle: a -> b -> a$"),
    (
        "cycle of 3",
        lambda: [s("a", "c"), s("b", "a"), s("c", "b")],
        r"^dependency cycle: a -> c -> b -> a$",
    ),
    ("self dependency", lambda: [s("a"), s("loop", "loop")], r"^step 'loop' depends on itself"),
    ("unknown dependency", lambda: [s("a"), s("b", "ghost")], r"^step 'b' .*unknown step 'ghost'"),
    ("duplicate top-level name", lambda: [s("a"), s("dup"), s("dup")], r"duplicate .*'dup'"),
    (
        "duplicate between top-level and sub-step",
        lambda: [s("twin"), group("g", s("x"), s("twin"))],
        r"duplicate .*'twin'",
    ),
    ("empty workflow", lambda: [], r"workflow 'wf' has no steps"),
    (
        "declared output collision",
        lambda: [s("a", outputs=["summary"]), s("writer", outputs=["summary"])],
        r"'summary' .*step 'a' and step 'writer'",
    ),
    (
        "sub-step depends on its own group",
        lambda: [group("g", s("inner", "g"), s("y"))],
        r"\binner\b",
    ),
    (
        "sub-step depends on a sibling in its group",
        lambda: [group("g", s("first"), s("second", "first"))],
        r"step 'second' inside parallel step 'g'",
    ),
]


@pytest.mark.parametrize(
    ("steps", "names"),
    [pytest.param(build, names, id=case) for case, build, names in DEFINITION_ERRORS],
)
def test_definition_errors_name_the_step(steps: Callable[[], list[Step]], names: str) -> None:
    with pytest.raises(WorkflowDefinitionError, match=names) as info:
        WorkflowDefinition(name="wf", steps=steps())
    # Raised as ours, not buried in a pydantic ValidationError.
    assert type(info.value) is WorkflowDefinitionError


@pytest.mark.parametrize(
    ("steps", "step", "phrase"),
    [
        pytest.param([s("a", "b"), s("b", "a")], {"a", "b"}, "cycle", id="cycle of 2"),
        pytest.param([s("a"), s("loop", "loop")], {"loop"}, "itself", id="self dependency"),
        pytest.param([s("a"), s("b", "ghost")], {"b"}, "ghost", id="unknown dependency"),
        pytest.param([s("dup"), s("dup")], {"dup"}, "duplicate", id="duplicate"),
        pytest.param(
            [s("twin"), group("g", s("twin"))], {"twin"}, "duplicate", id="duplicate in group"
        ),
    ],
)
def test_definition_error_carries_the_step(steps: list[Step], step: set[str], phrase: str) -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        WorkflowDefinition(name="wf", steps=steps)
    assert info.value.step in step
    assert phrase in str(info.value)


def test_sub_step_depending_on_its_group_says_so() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        WorkflowDefinition(name="wf", steps=[group("g", s("inner", "g"), s("y"))])
    assert "step 'inner' inside parallel step 'g' depends on its own group" in str(info.value)


def test_cycle_message_lists_the_whole_cycle() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        WorkflowDefinition(name="wf", steps=[s("a", "c"), s("b", "a"), s("c", "b")])
    message = str(info.value)
    assert message.startswith("dependency cycle: ")
    path = message.removeprefix("dependency cycle: ").split(" -> ")
    assert path[0] == path[-1] and set(path) == {"a", "b", "c"} and len(path) == 4


def test_a_valid_graph_builds() -> None:
    d = WorkflowDefinition(name="wf", steps=[s("a"), group("g", s("x"), s("y"), deps=("a",))])
    assert [leaf.name for leaf in d.leaves] == ["a", "x", "y"]
    assert d.parents == {"x": "g", "y": "g"}


# -- version hash ---------------------------------------------------------------------------


def _definition(**changes: object) -> WorkflowDefinition:
    """A base graph; ``changes`` swap one thing at a time."""
    first = Step(
        name="first",
        handler=changes.get("handler", h),  # type: ignore[arg-type]
        retry_policy=changes.get("retry", RetryPolicy.exponential(max_attempts=3)),  # type: ignore[arg-type]
        prompts=["summarization"],
    )
    second = Step(name="second", handler=h, depends_on=changes.get("deps", ["first"]))  # type: ignore[arg-type]
    third = Step(name="third", handler=h)
    return WorkflowDefinition(
        name="wf",
        steps=[first, second, third],
        default_retry_policy=changes.get("default_retry", RetryPolicy.none()),  # type: ignore[arg-type]
    )


PRINTS = {"summarization@v1": "aaaaaaaaaaaa"}


def test_version_hash_is_stable_across_builds() -> None:
    one, two = _definition(), _definition()
    assert one is not two
    assert one.version_hash(PRINTS) == two.version_hash(PRINTS)
    assert len(one.version_hash(PRINTS)) == 12


@pytest.mark.parametrize(
    ("changes", "prints"),
    [
        pytest.param(
            {"retry": RetryPolicy.exponential(max_attempts=4)}, PRINTS, id="retry attempts"
        ),
        pytest.param({"retry": RetryPolicy.fixed(3, delay=1.0)}, PRINTS, id="retry kind"),
        pytest.param({"deps": []}, PRINTS, id="dependency removed"),
        pytest.param({"deps": ["third"]}, PRINTS, id="dependency changed"),
        pytest.param({}, {"summarization@v1": "bbbbbbbbbbbb"}, id="prompt fingerprint"),
        pytest.param({}, {"summarization@v2": "aaaaaaaaaaaa"}, id="prompt version"),
        pytest.param({"handler": h_other}, PRINTS, id="handler source"),
    ],
)
def test_version_hash_changes(changes: dict[str, object], prints: dict[str, str]) -> None:
    base = _definition().version_hash(PRINTS)
    assert _definition(**changes).version_hash(prints) != base


def test_handler_source_is_what_changed() -> None:
    # Guard for the "handler source" case above: the names really are equal.
    assert (
        Step(name="x", handler=h).handler_name() == Step(name="x", handler=h_other).handler_name()
    )


def test_version_hash_changes_with_default_retry_policy() -> None:
    base = _definition().version_hash(PRINTS)
    changed = _definition(default_retry=RetryPolicy.exponential(max_attempts=5))
    assert changed.version_hash(PRINTS) != base


def test_workflow_version_follows_prompt_files(tmp_path: Path) -> None:
    from eightflow import Workflow

    prompts = tmp_path / "prompts"
    prompts.mkdir()
    source = (REPO / "prompts" / "summarization.v1.md").read_text()
    (prompts / "summarization.v1.md").write_text(source)

    class W(Workflow):
        def define(self) -> WorkflowDefinition:
            return _definition()

    before = W(prompts=PromptRegistry(prompts)).version
    assert W(prompts=PromptRegistry(prompts)).version == before
    (prompts / "summarization.v1.md").write_text(source.replace("faithfully", "briefly"))
    assert W(prompts=PromptRegistry(prompts)).version != before


# -- mermaid and the seed's graph ----------------------------------------------------------


def _seed_definition() -> WorkflowDefinition:
    from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow

    return DocumentAnalysisWorkflow().definition


def test_mermaid_has_subgraphs_and_edges() -> None:
    text = _seed_definition().to_mermaid()
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "flowchart TD"
    assert "subgraph parallel_analysis[parallel_analysis]" in lines
    start = lines.index("subgraph parallel_analysis[parallel_analysis]")
    inside = lines[start + 1 : lines.index("end", start)]
    assert inside == ['sentiment["sentiment"]', 'entities["entities"]']
    for edge in (
        "summarization --> topic_extraction",
        "topic_extraction --> compilation",
        "parallel_analysis --> compilation",
    ):
        assert edge in lines
    assert sum("-->" in line for line in lines) == 3


def test_mermaid_ids_for_dashed_names() -> None:
    d = WorkflowDefinition(name="wf", steps=[s("load-doc"), s("use-doc", "load-doc")])
    assert "  load_doc --> use_doc" in d.to_mermaid().splitlines()


def test_seed_leaf_dependencies() -> None:
    deps = _seed_definition().leaf_dependencies
    assert deps == {
        "summarization": (),
        "topic_extraction": ("summarization",),
        "sentiment": (),
        "entities": (),
        "compilation": ("topic_extraction", "sentiment", "entities"),
    }


def test_seed_ancestors_and_order() -> None:
    d = _seed_definition()
    assert d.ancestors["compilation"] == {
        "summarization",
        "topic_extraction",
        "sentiment",
        "entities",
    }
    order = d.topological_order()
    assert (
        order.index("summarization") < order.index("topic_extraction") < order.index("compilation")
    )
    assert order[-1] == "compilation"


def test_sub_step_inherits_group_dependencies() -> None:
    d = WorkflowDefinition(
        name="wf",
        steps=[s("a"), s("b"), group("g", s("x", "b"), s("y"), deps=("a",)), s("z", "g")],
    )
    assert d.leaf_dependencies["x"] == ("b", "a")
    assert d.leaf_dependencies["y"] == ("a",)
    assert d.leaf_dependencies["z"] == ("x", "y")
