"""The compiler: steps as Prefect tasks, dependencies, retries and recovery decisions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eightflow import (
    Context,
    ModelPermanentError,
    ModelTemporaryError,
    ParallelStep,
    Recovery,
    RetryPolicy,
    Step,
    StepResult,
    Workflow,
    WorkflowDefinition,
    WorkflowDefinitionError,
    WorkflowError,
    WorkflowFailed,
)
from tests.support.fake_model import FakeModel

pytestmark = pytest.mark.prefect

FAST_RETRY = RetryPolicy.exponential(max_attempts=3, initial_delay=0.01, max_delay=0.02)


class OneCall(Workflow):
    """A model step, a dependent step, and an independent step."""

    recovery: Any = None

    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(
            name="one_call",
            steps=[
                Step(name="ask", handler=self.ask, retry_policy=FAST_RETRY),
                Step(name="after", handler=self.after, depends_on=["ask"]),
                Step(name="aside", handler=self.aside),
            ],
            on_failure=type(self).recovery,
        )

    async def ask(self, context: Context) -> StepResult:
        answer = await self.model.generate("sentiment", context.document, model="fake/model")
        return StepResult(sentiment=answer)

    async def after(self, context: Context) -> StepResult:
        return StepResult(label=context.sentiment.label)

    async def aside(self, context: Context) -> StepResult:
        return StepResult(length=len(context.document))


def _sentiment(label: str = "positive") -> dict[str, Any]:
    return {"label": label, "score": 0.5}


async def test_rate_limits_then_success_on_attempt_3(fake_model: FakeModel) -> None:
    fake_model.enqueue(
        FakeModel.fault("RateLimitError"), FakeModel.fault("RateLimitError"), _sentiment()
    )
    result = await OneCall(document="good").execute()
    ask = result.step("ask")
    assert (result.status, ask.status, ask.attempts) == ("completed", "completed", 3)
    assert [c.error_type for c in ask.calls] == ["ModelTemporaryError"] * 2 + [None]
    assert [c.attempt for c in ask.calls] == [1, 2, 3]
    assert result.outputs["label"] == "positive"
    assert len(fake_model.history) == 3


async def test_permanent_error_is_not_retried_and_fails_the_workflow(fake_model: FakeModel) -> None:
    seen: list[WorkflowError] = []

    def recovery(error: WorkflowError) -> Recovery:
        seen.append(error)
        if isinstance(error, ModelTemporaryError):
            return Recovery.retry()
        return Recovery.fail_workflow()

    class Flow(OneCall):
        pass

    Flow.recovery = staticmethod(recovery)
    fake_model.enqueue(FakeModel.fault("AuthenticationError", "bad key"))
    with pytest.raises(WorkflowFailed) as info:
        await Flow(document="x").execute()
    result = info.value.result
    assert result.status == "failed"
    assert result.step("ask").attempts == 1 and result.step("ask").status == "failed"
    assert result.step("after").status == "not_run"
    assert len(fake_model.history) == 1
    assert isinstance(seen[0], ModelPermanentError)
    assert (seen[0].step, seen[0].attempt) == ("ask", 1)


async def test_skip_runs_dependents_with_default_outputs(fake_model: FakeModel) -> None:
    class Flow(OneCall):
        recovery = staticmethod(lambda error: Recovery.skip(sentiment=_Fallback()))

    fake_model.enqueue(FakeModel.fault("BadRequestError"))
    result = await Flow(document="x").execute()
    assert result.step("ask").status == "skipped"
    assert result.step("after").status == "completed"
    assert result.outputs["label"] == "unknown"


class _Fallback:
    label = "unknown"


async def test_fallback_runs_the_step_on_another_model(fake_model: FakeModel) -> None:
    other = FakeModel(name="other", price=(0.0, 0.0)).install()
    other.enqueue(_sentiment("negative"))

    class Flow(OneCall):
        recovery = staticmethod(
            lambda error: (
                Recovery.fallback(model="other/model")
                if isinstance(error, ModelPermanentError)
                else Recovery.fail_workflow()
            )
        )

    fake_model.enqueue(FakeModel.fault("NotFoundError", "no such model"))
    result = await Flow(document="x").execute()
    ask = result.step("ask")
    assert ask.status == "completed" and ask.fallback_model == "other/model"
    assert [c.model for c in ask.calls] == ["fake/model", "other/model"]
    assert ask.model == "other/model"
    assert result.outputs["label"] == "negative"


async def test_default_recovery_uses_fallback_models(fake_model: FakeModel) -> None:
    other = FakeModel(name="spare", price=(0.0, 0.0)).install()
    other.enqueue(_sentiment("neutral"))
    fake_model.enqueue(FakeModel.fault("NotFoundError"))

    class Flow(OneCall):
        recovery = None

    result = await Flow(document="x", fallback_models=["spare/model"]).execute()
    assert result.step("ask").fallback_model == "spare/model"
    assert result.outputs["label"] == "neutral"


async def test_programming_errors_are_not_retried() -> None:
    calls = []

    class Broken(Workflow):
        def define(self) -> WorkflowDefinition:
            return WorkflowDefinition(
                name="broken", steps=[Step(name="bad", handler=self.bad, retry_policy=FAST_RETRY)]
            )

        async def bad(self, context: Context) -> StepResult:
            calls.append(1)
            raise ZeroDivisionError("oops")

    result = await Broken().execute(raise_on_failure=False)
    assert result.status == "failed" and result.error_type == "ZeroDivisionError"
    assert calls == [1]


async def test_timing_parallel_and_dependencies() -> None:
    class Timed(Workflow):
        def define(self) -> WorkflowDefinition:
            return WorkflowDefinition(
                name="timed",
                steps=[
                    Step(name="first", handler=self.sleep("a")),
                    Step(name="second", handler=self.sleep("b"), depends_on=["first"]),
                    Step(
                        name="group",
                        handler=ParallelStep(
                            [
                                Step(name="x", handler=self.sleep("x")),
                                Step(name="y", handler=self.sleep("y")),
                            ]
                        ),
                    ),
                    Step(name="end", handler=self.end, depends_on=["second", "group"]),
                ],
            )

        def sleep(self, key: str) -> Any:
            async def handler(context: Context) -> StepResult:
                await asyncio.sleep(0.3)
                return StepResult(**{key: key})

            return handler

        async def end(self, context: Context) -> StepResult:
            return StepResult(seen=sorted([context.a, context.b, context.x, context.y]))

    result = await Timed().execute()
    first, second = result.step("first"), result.step("second")
    x, y = result.step("x"), result.step("y")
    assert first.finished <= second.started
    assert x.started < first.finished and y.started < first.finished
    assert result.outputs["seen"] == ["a", "b", "x", "y"]
    assert x.group == "group"


async def test_context_only_holds_dependencies() -> None:
    class Leaky(Workflow):
        def define(self) -> WorkflowDefinition:
            return WorkflowDefinition(
                name="leaky",
                steps=[
                    Step(name="a", handler=self.a),
                    Step(name="b", handler=self.b),
                ],
            )

        async def a(self, context: Context) -> StepResult:
            await asyncio.sleep(0.2)
            return StepResult(secret=1)

        async def b(self, context: Context) -> StepResult:
            await asyncio.sleep(0.4)
            return StepResult(value=context.secret)  # no dependency on a

    result = await Leaky().execute(raise_on_failure=False)
    assert result.step("b").status == "failed"
    assert "step 'b' has no 'secret'" in (result.step("b").error or "")


async def test_two_steps_writing_one_output_is_a_definition_error() -> None:
    class Clash(Workflow):
        def define(self) -> WorkflowDefinition:
            return WorkflowDefinition(
                name="clash",
                steps=[
                    Step(name="a", handler=self.same),
                    Step(name="b", handler=self.same, depends_on=["a"]),
                ],
            )

        async def same(self, context: Context) -> StepResult:
            return StepResult(out=1)

    result = await Clash().execute(raise_on_failure=False)
    assert result.error_type == "WorkflowDefinitionError"
    assert "output 'out' is written by both step 'a' and step 'b'" in (result.error or "")


@pytest.mark.parametrize(
    ("cap", "crossing_call_made"),
    [
        (0.00037, True),  # s1's prompt fits under the cap, its answer crosses it
        (0.0002, False),  # s1's prompt alone would pass the cap: it never starts
    ],
)
async def test_budget_stops_further_calls(
    fake_model: FakeModel, cap: float, crossing_call_made: bool
) -> None:
    class Chain(Workflow):
        def define(self) -> WorkflowDefinition:
            steps = [Step(name="s0", handler=self.ask(0))]
            steps += [
                Step(name=f"s{i}", handler=self.ask(i), depends_on=[f"s{i - 1}"])
                for i in range(1, 5)
            ]
            return WorkflowDefinition(name="chain", steps=steps, max_cost_usd=cap)

        def ask(self, i: int) -> Any:
            async def handler(context: Context) -> StepResult:
                out = await self.model.generate("sentiment", context.document, model="fake/model")
                return StepResult(**{f"r{i}": out})

            return handler

    with pytest.raises(WorkflowFailed) as info:
        await Chain(document="word " * 60).execute()
    result = info.value.result
    assert result.status == "budget_exceeded"
    s0, s1 = result.step("s0"), result.step("s1")
    assert s0.status == "completed" and s1.status == "failed"
    assert s1.error_type == "BudgetExceeded"
    assert len(s1.calls) == (1 if crossing_call_made else 0)
    assert len(fake_model.history) == 1 + len(s1.calls)  # nothing after the stop
    assert all(result.step(f"s{i}").status == "not_run" for i in range(2, 5))
    assert result.cost_usd is not None
    assert (result.cost_usd >= cap) is crossing_call_made


def test_definition_errors_name_the_step() -> None:
    async def h(context: Context) -> StepResult:
        return StepResult()

    with pytest.raises(WorkflowDefinitionError, match="'b'"):
        WorkflowDefinition(
            name="w",
            steps=[Step(name="a", handler=h), Step(name="b", handler=h, depends_on=["zz"])],
        )
