"""``Context``: read-only access to inputs and upstream outputs; loud on a missing name."""

from __future__ import annotations

import pickle

import pytest

from eightflow import Context, StepResult, WorkflowError
from eightflow.errors import ContextKeyError
from eightflow.runtime.context import current_scope


@pytest.fixture
def ctx() -> Context:
    return Context({"document": "text", "summary": "short"}, step="topic_extraction", n=3)


def test_attribute_and_key_access(ctx: Context) -> None:
    assert ctx.document == ctx["document"] == "text"
    assert ctx.summary == "short" and ctx.n == 3
    assert ctx.step == "topic_extraction"
    assert set(ctx) == {"document", "summary", "n"} and len(ctx) == 3
    assert "summary" in ctx and "missing" not in ctx
    assert ctx.get("missing", "default") == "default"
    assert ctx.to_dict() == {"document": "text", "summary": "short", "n": 3}


def test_keyword_values_override_the_mapping() -> None:
    assert Context({"a": 1}, a=2).a == 2


@pytest.mark.parametrize("access", ["attribute", "key"])
def test_missing_name_raises_naming_step_and_name(ctx: Context, access: str) -> None:
    with pytest.raises(ContextKeyError) as info:
        if access == "attribute":
            ctx.entities  # noqa: B018
        else:
            ctx["entities"]
    error = info.value
    message = str(error)
    assert "'topic_extraction'" in message and "'entities'" in message
    assert "document, n, summary" in message  # what it does hold
    assert error.step == "topic_extraction"
    # One exception that every usual handler catches.
    assert isinstance(error, KeyError | AttributeError | WorkflowError)
    assert isinstance(error, KeyError) and isinstance(error, AttributeError)
    assert isinstance(error, WorkflowError)


def test_missing_name_outside_a_step() -> None:
    with pytest.raises(ContextKeyError, match=r"the context has no 'x'"):
        Context({}).x  # noqa: B018


@pytest.mark.parametrize("name", ["missing", "None", "none", "_private", "step_"])
def test_missing_is_never_none(ctx: Context, name: str) -> None:
    with pytest.raises(ContextKeyError):
        getattr(ctx, name)
    assert not hasattr(ctx, name)


def test_none_values_are_returned_as_values() -> None:
    assert Context({"maybe": None}).maybe is None


def test_dunder_lookups_are_plain_attribute_errors(ctx: Context) -> None:
    with pytest.raises(AttributeError) as info:
        ctx.__wrapped__  # noqa: B018
    assert not isinstance(info.value, ContextKeyError)


@pytest.mark.parametrize("name", ["document", "new", "_data", "_step"])
def test_read_only(ctx: Context, name: str) -> None:
    with pytest.raises(AttributeError, match="read-only"):
        setattr(ctx, name, "changed")
    with pytest.raises(TypeError):
        ctx[name] = "changed"  # type: ignore[index]
    assert ctx.document == "text" and ctx.step == "topic_extraction"


def test_to_dict_is_a_copy(ctx: Context) -> None:
    data = ctx.to_dict()
    data["document"] = "changed"
    assert ctx.document == "text"


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        pytest.param(StepResult(topics=["a"]), {"topics": ["a"]}, id="StepResult"),
        pytest.param(
            [StepResult(topics=["a"]), StepResult(sentiment="ok", topics=["b"])],
            {"topics": ["b"], "sentiment": "ok"},
            id="list of StepResult",
        ),
        pytest.param([{"x": 1}, StepResult(y=2)], {"x": 1, "y": 2}, id="mixed list"),
        pytest.param({"entities": []}, {"entities": []}, id="dict"),
        pytest.param({"summary": "longer"}, {"summary": "longer"}, id="dict overwrites"),
        pytest.param([], {}, id="empty list"),
    ],
)
def test_update(ctx: Context, update: object, expected: dict[str, object]) -> None:
    before = ctx.to_dict()
    ctx.update(update)  # type: ignore[arg-type]
    assert ctx.to_dict() == {**before, **expected}
    for key, value in expected.items():
        assert getattr(ctx, key) == value


def test_for_step_scopes_names_and_step(ctx: Context) -> None:
    scoped = ctx.for_step("entities", {"document"})
    assert scoped.step == "entities" and scoped.to_dict() == {"document": "text"}
    with pytest.raises(ContextKeyError, match=r"'entities'.*'summary'"):
        scoped.summary  # noqa: B018
    assert ctx.for_step("x").to_dict() == ctx.to_dict()


def test_context_key_error_pickles(ctx: Context) -> None:
    with pytest.raises(ContextKeyError) as info:
        ctx.missing  # noqa: B018
    clone = pickle.loads(pickle.dumps(info.value))
    assert type(clone) is ContextKeyError
    assert clone.step == "topic_extraction" and str(clone) == str(info.value)


def test_step_result() -> None:
    result = StepResult(summary="s", topics=[1])
    assert result.summary == "s" and result["topics"] == [1]
    assert result == StepResult(summary="s", topics=[1]) and result != StepResult(summary="t")
    assert not result.skipped
    with pytest.raises(AttributeError, match="no output 'nope'"):
        result.nope  # noqa: B018
    skipped = StepResult.skipped_with({"summary": ""})
    assert skipped.skipped and skipped.outputs == {"summary": ""}


class Scope:
    """A run's scope, as a dynamic workflow's loop opens one."""

    def __init__(self, inputs: dict[str, object]) -> None:
        self.inputs = inputs

    def prompt_variables(self, prompt_id: str, context: Context) -> dict[str, object]:
        return {"registry": "[...]"} if prompt_id == "workflow_planning" else {}


def test_context_built_inside_a_scope_starts_from_the_run_inputs() -> None:
    assert Context().to_dict() == {}  # outside a run: empty
    token = current_scope.set(Scope({"document": "the text", "audience": "club"}))
    try:
        context = Context()
        explicit = Context({"only": 1})
    finally:
        current_scope.reset(token)
    assert context.to_dict() == {"document": "the text", "audience": "club"}
    assert explicit.to_dict() == {"only": 1}  # given data is never replaced
    context.update({"summary": "s"})
    assert "summary" not in Context({}) and context.summary == "s"


@pytest.mark.parametrize(
    ("prompt_id", "expected"),
    [
        ("summarization", {"document": "the text"}),
        ("workflow_planning", {"document": "the text", "registry": "[...]"}),
    ],
)
def test_prompt_variables_come_from_the_context_and_its_scope(
    prompt_id: str, expected: dict[str, object]
) -> None:
    token = current_scope.set(Scope({"document": "the text", "audience": "club"}))
    try:
        context = Context()
    finally:
        current_scope.reset(token)
    assert context.prompt_variables(prompt_id, ["document", "missing"]) == expected
