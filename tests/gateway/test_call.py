"""The call path: what may and may not become a retryable model error, and no litellm globals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from eightflow import (
    BudgetExceeded,
    Context,
    ModelTemporaryError,
    RetryPolicy,
    Step,
    StepResult,
    Workflow,
    WorkflowDefinition,
    WorkflowFailed,
)
from eightflow.gateway import ModelGateway, register_provider
from eightflow.providers import ProviderRequest


def _over_budget(request: ProviderRequest) -> str:
    raise BudgetExceeded("the run's budget is spent", limit="max_cost_usd", spent=1.0, cap=1.0)


def _flaky(request: ProviderRequest) -> str:
    raise ConnectionError("connection reset by peer")


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        pytest.param(_over_budget, BudgetExceeded, id="budget: stays BudgetExceeded"),
        pytest.param(_flaky, ModelTemporaryError, id="control: a real fault is retryable"),
    ],
)
async def test_budget_exceeded_inside_the_call_is_never_made_retryable(
    provider: object, expected: type[Exception]
) -> None:
    # litellm wraps whatever a provider raises in an APIConnectionError, which on its own
    # would map to the retryable ModelTemporaryError.
    name = f"callpath{expected.__name__.lower()}"
    register_provider(name, provider)  # type: ignore[arg-type]
    with pytest.raises(Exception) as info:
        await ModelGateway().complete("sentiment", "a text", model=f"{name}/model")
    assert type(info.value) is expected
    if expected is BudgetExceeded:
        assert not isinstance(info.value, ModelTemporaryError)
        assert info.value.limit == "max_cost_usd"  # type: ignore[attr-defined]


@pytest.mark.prefect
async def test_budget_exceeded_in_a_provider_stops_the_run_without_retry() -> None:
    calls: list[str] = []

    def provider(request: ProviderRequest) -> str:
        calls.append(request.model)
        return _over_budget(request)

    register_provider("overspent", provider)

    class Once(Workflow):
        def define(self) -> WorkflowDefinition:
            return WorkflowDefinition(
                name="budget_in_provider",
                steps=[Step(name="ask", handler=self.ask, retry_policy=RetryPolicy.fixed(3, 0.01))],
            )

        async def ask(self, context: Context) -> StepResult:
            return StepResult(s=await self.model.generate("sentiment", "x", model="overspent/m"))

    with pytest.raises(WorkflowFailed) as info:
        await Once().execute()
    result = info.value.result
    assert result.status == "budget_exceeded"
    assert result.step("ask").attempts == 1 and len(calls) == 1
    assert result.step("ask").error_type == "BudgetExceeded"


@pytest.mark.e2e
def test_importing_the_gateway_sets_no_litellm_globals() -> None:
    names = ("drop_params", "suppress_debug_info", "custom_provider_map")
    code = (
        "import json, litellm\n"
        f"names = {names!r}\n"
        "before = {n: repr(getattr(litellm, n)) for n in names}\n"
        "import eightflow.gateway\n"
        "after = {n: repr(getattr(litellm, n)) for n in names}\n"
        "print(json.dumps([before, after]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=240
    )
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == after


async def test_calls_never_drop_params(fake_model: object) -> None:
    import litellm

    await ModelGateway().complete("sentiment", "a text", model="fake/model")
    assert not litellm.drop_params  # response_format must reach the provider or fail loudly
    assert fake_model.history[-1].schema is not None  # type: ignore[attr-defined]
