"""The gateway: provider errors mapped to ours, and the real HTTP path through litellm.

The HTTP tests point litellm at the in-process OpenAI-compatible stub server: status codes,
usage accounting and pricing go over the wire exactly as they would against OpenAI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from eightflow import (
    Context,
    ModelPermanentError,
    ModelTemporaryError,
    RetryPolicy,
    Step,
    StepResult,
    Workflow,
    WorkflowDefinition,
)
from tests.support import StubConfig, StubServer

MODEL = "openai/gpt-4o-mini"
PROMPT_TOKENS, COMPLETION_TOKENS = 1234, 56


def _litellm() -> Any:
    import litellm  # after conftest set LITELLM_LOCAL_MODEL_COST_MAP

    return litellm


def _exc(name: str) -> BaseException:
    litellm = _litellm()
    cls = getattr(litellm, name)
    response = httpx.Response(400, request=httpx.Request("POST", "https://api.example/v1"))
    if name == "Timeout":
        return cls(message="slow", model="gpt-4o-mini", llm_provider="openai")
    if name in (
        "BadRequestError",
        "ContextWindowExceededError",
        "NotFoundError",
        "UnprocessableEntityError",
    ):
        kwargs: dict[str, Any] = (
            {"response": response} if name == "UnprocessableEntityError" else {}
        )
        return cls(message=f"{name} here", model="gpt-4o-mini", llm_provider="openai", **kwargs)
    if name == "PermissionDeniedError":
        return cls(message="denied", llm_provider="openai", model="gpt-4o-mini", response=response)
    return cls(message=f"{name} here", llm_provider="openai", model="gpt-4o-mini")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("RateLimitError", ModelTemporaryError),
        ("Timeout", ModelTemporaryError),
        ("APIConnectionError", ModelTemporaryError),
        ("ServiceUnavailableError", ModelTemporaryError),
        ("InternalServerError", ModelTemporaryError),
        ("BadGatewayError", ModelTemporaryError),
        ("AuthenticationError", ModelPermanentError),
        ("BadRequestError", ModelPermanentError),
        ("ContextWindowExceededError", ModelPermanentError),
        ("NotFoundError", ModelPermanentError),
        ("PermissionDeniedError", ModelPermanentError),
        ("UnprocessableEntityError", ModelPermanentError),
    ],
)
def test_map_error(name: str, expected: type) -> None:
    from eightflow.gateway import map_error

    exc = _exc(name)
    mapped = map_error(exc, MODEL)
    assert type(mapped) is expected
    assert (mapped.model, mapped.provider, mapped.kind) == (MODEL, "openai", name)
    assert "here" in str(mapped) or name in ("Timeout", "PermissionDeniedError")
    status = getattr(exc, "status_code", None)
    assert mapped.status_code == (status if isinstance(status, int) else None)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, ModelPermanentError),
        (403, ModelPermanentError),
        (408, ModelTemporaryError),
        (409, ModelTemporaryError),
        (429, ModelTemporaryError),
        (500, ModelTemporaryError),
        (529, ModelTemporaryError),
    ],
)
def test_map_error_by_status_code(status: int, expected: type) -> None:
    from eightflow.gateway import map_error

    exc = _litellm().APIError(status_code=status, message="x", llm_provider="p", model="m")
    mapped = map_error(exc, "p/m")
    assert type(mapped) is expected and mapped.status_code == status


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError("slow"), ModelTemporaryError),
        (ValueError("weird body"), ModelTemporaryError),
        (ModelPermanentError("already ours"), ModelPermanentError),
    ],
)
def test_map_error_other_exceptions(exc: BaseException, expected: type) -> None:
    from eightflow.gateway import map_error

    assert type(map_error(exc, MODEL)) is expected


def test_mapped_errors_are_sanitized_and_pickle() -> None:
    import pickle

    from eightflow.gateway import map_error

    key = "sk-" + "A1b2C3d4" * 5
    exc = _litellm().AuthenticationError(
        message=f"Incorrect API key provided: {key}", llm_provider="openai", model="gpt-4o-mini"
    )
    mapped = map_error(exc, MODEL)
    assert key not in str(mapped) and "[REDACTED]" in str(mapped)
    clone = pickle.loads(pickle.dumps(mapped))
    assert type(clone) is ModelPermanentError and clone.kind == "AuthenticationError"


# -- the real HTTP path ----------------------------------------------------------------


@pytest.fixture
def openai_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = "sk-test-" + "k" * 32
    monkeypatch.setenv("OPENAI_API_KEY", key)
    return key


@pytest.fixture
def stub(openai_key: str) -> Iterator[StubServer]:
    config = StubConfig(prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS)
    with StubServer(config) as server:
        yield server


class Ask(Workflow):
    """One step that asks the stub for a sentiment, ``calls`` times."""

    calls = 1
    policy: RetryPolicy | None = None
    model_name = MODEL

    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(
            name="gateway_ask",
            steps=[Step(name="ask", handler=self.ask, retry_policy=type(self).policy)],
        )

    async def ask(self, context: Context) -> StepResult:
        answers = [
            await self.model.generate(
                "sentiment", f"{context.text} #{i}", model=type(self).model_name
            )
            for i in range(type(self).calls)
        ]
        return StepResult(sentiment=answers[-1])


def _expected_cost(n_calls: int) -> float:
    cost_in, cost_out = _litellm().cost_per_token(
        model=MODEL, prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS
    )
    return n_calls * (cost_in + cost_out)


@pytest.mark.parametrize("calls", [1, 2])
@pytest.mark.prefect
async def test_cost_and_tokens_over_http(stub: StubServer, openai_key: str, calls: int) -> None:
    class Flow(Ask):
        pass

    Flow.calls = calls
    result = await Flow(text="a calm day", api_base=stub.api_base).execute()
    step = result.step("ask")
    expected = _expected_cost(calls)
    assert expected > 0
    assert step.cost_usd == pytest.approx(expected, rel=1e-9)
    assert result.cost_usd == pytest.approx(expected, rel=1e-9)
    assert [c.cost_usd for c in step.calls] == pytest.approx([expected / calls] * calls)
    assert (step.tokens_in, step.tokens_out) == (PROMPT_TOKENS * calls, COMPLETION_TOKENS * calls)
    assert (result.tokens.input, result.tokens.output) == (
        PROMPT_TOKENS * calls,
        COMPLETION_TOKENS * calls,
    )
    assert step.model == MODEL and step.prompt == "sentiment@v1"
    stats = stub.stats()
    assert stats["calls"] == calls and stats["by_outcome"]["ok"] == calls
    assert stats["usage"] == {
        "prompt_tokens": PROMPT_TOKENS * calls,
        "completion_tokens": COMPLETION_TOKENS * calls,
    }
    assert result.model_calls == calls
    assert result.outputs["sentiment"].label in {"positive", "negative", "neutral"}
    # The request really carried the prompt and the schema, and the key was sent
    # (the stub strips it from history: it must not be stored anywhere).
    sent = stub.history[-1]
    assert sent["model"] == "gpt-4o-mini" and sent["response_format"]
    assert "a calm day" in sent["messages"][-1]["content"]
    assert "authorization" not in sent["headers"]


@pytest.mark.prefect
async def test_server_error_is_retried_by_the_step_not_the_sdk(stub: StubServer) -> None:
    stub.configure(status_script=[500, 200])

    class Flow(Ask):
        policy = RetryPolicy.fixed(2, delay=0.01)

    result = await Flow(text="x", api_base=stub.api_base).execute()
    step = result.step("ask")
    assert stub.stats()["calls"] == 2
    assert stub.stats()["by_outcome"]["500"] == 1
    assert (result.status, step.status, step.attempts) == ("completed", "completed", 2)
    assert [c.attempt for c in step.calls] == [1, 2]
    assert [c.error_type for c in step.calls] == ["ModelTemporaryError", None]
    assert step.calls[0].cost_usd == 0.0  # a failed call is not billed
    assert step.cost_usd == pytest.approx(_expected_cost(1))


@pytest.mark.prefect
async def test_rate_limit_becomes_a_temporary_error_on_the_call(stub: StubServer) -> None:
    stub.configure(status_script=[429])
    result = await Ask(text="x", api_base=stub.api_base).execute(raise_on_failure=False)
    step = result.step("ask")
    assert stub.stats()["calls"] == 1  # no SDK retry behind our back
    assert (result.status, step.status, step.attempts) == ("failed", "failed", 1)
    [call] = step.calls
    assert call.error_type == "ModelTemporaryError"
    assert call.model == MODEL and call.tokens_in == 0
    assert "Rate limit" in (call.error or "")
    assert result.error_type == "ModelTemporaryError"


@pytest.mark.prefect
async def test_unpriced_model_records_none_not_zero() -> None:
    from tests.support.fake_model import FakeModel

    fake = FakeModel(name="unpriced").install()

    class Flow(Ask):
        model_name = "unpriced/model"

    result = await Flow(text="x").execute()
    step = result.step("ask")
    assert len(fake.history) == 1
    assert step.status == "completed"
    assert step.tokens_in > 0 and step.tokens_out > 0
    assert step.calls[0].cost_usd is None
    assert step.cost_usd is None
    assert result.cost_usd is None
    assert result.to_dict()["cost_usd"] is None


@pytest.mark.prefect
async def test_one_unpriced_call_makes_the_run_unpriced(fake_model: Any) -> None:
    from tests.support.fake_model import FakeModel

    FakeModel(name="unpriced2").install()

    class Two(Workflow):
        def define(self) -> WorkflowDefinition:
            return WorkflowDefinition(
                name="two_models",
                steps=[
                    Step(name="priced", handler=self.priced),
                    Step(name="free", handler=self.free),
                ],
            )

        async def priced(self, context: Context) -> StepResult:
            return StepResult(a=await self.model.generate("sentiment", "x", model="fake/model"))

        async def free(self, context: Context) -> StepResult:
            return StepResult(
                b=await self.model.generate("sentiment", "y", model="unpriced2/model")
            )

    result = await Two().execute()
    assert result.step("priced").cost_usd is not None and result.step("priced").cost_usd > 0
    assert result.step("free").cost_usd is None
    assert result.cost_usd is None


@pytest.mark.prefect
async def test_embedded_model_is_free_but_counts_tokens() -> None:
    class Flow(Ask):
        model_name = "local/embedded"

    result = await Flow(text="What a wonderful, happy day for everyone.").execute()
    step = result.step("ask")
    [call] = step.calls
    assert call.cost_usd == 0.0 and step.cost_usd == 0.0 and result.cost_usd == 0.0
    assert call.tokens_in > 0 and call.tokens_out > 0
    assert call.provider == "local"
    assert result.outputs["sentiment"].label == "positive"


@pytest.mark.parametrize(
    ("scope", "expected"),
    [("explicit", "b/explicit"), ("run", "c/run"), ("prompt", None)],
)
def test_resolve_model_order(scope: str, expected: str | None) -> None:
    from eightflow.gateway import ModelGateway
    from eightflow.runtime.run_state import RunState, current_run
    from eightflow.settings import EMBEDDED_MODEL

    gateway = ModelGateway()
    prompt = gateway.prompts.get("sentiment")
    token = current_run.set(
        RunState(workflow="w", version="v", model="c/run") if scope == "run" else None
    )
    try:
        chosen = gateway.resolve_model(prompt, "b/explicit" if scope == "explicit" else None)
    finally:
        current_run.reset(token)
    assert chosen == (expected or prompt.model or EMBEDDED_MODEL)


@pytest.mark.prefect
async def test_generate_renders_a_whole_context(fake_model: Any) -> None:
    """The seed's ``model.generate(prompt, context)``: the prompt's variables come from it."""

    class Seedlike(Workflow):
        def define(self) -> WorkflowDefinition:
            return WorkflowDefinition(name="seedlike", steps=[Step(name="s", handler=self.s)])

        async def s(self, context: Context) -> StepResult:
            label = await self.model.generate("sentiment", context, model="fake/model")
            return StepResult(label=label)

    await Seedlike(document="The ferry is late again, sadly.").execute()
    [call] = fake_model.calls_for("sentiment")
    assert "The ferry is late again, sadly." in call.user_text
