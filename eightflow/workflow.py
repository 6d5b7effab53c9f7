"""``Workflow``: the class users subclass, as in the seed.

A subclass implements ``define()``; its handlers use ``self.model`` (the gateway) and
``self.prompts`` (the prompt registry). ``execute()`` compiles the definition to a Prefect
flow and runs it, or, when a flow is already running, runs the steps as tasks of that flow.
Prefect and litellm are imported on first use, so ``import eightflow`` stays fast.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from eightflow.definition import WorkflowDefinition
from eightflow.errors import WorkflowError, WorkflowFailed
from eightflow.pipeline.driver import Driver, Granularity
from eightflow.pipeline.run import (
    RunPipeline,
    crashed_result,
    flow_return,
    input_preview,
    normalise_inputs,
)
from eightflow.prompts import PromptRegistry
from eightflow.runtime.budget import Budget
from eightflow.runtime.limiter import CallLimiter
from eightflow.runtime.records import WorkflowResult
from eightflow.runtime.run_state import RunState

if TYPE_CHECKING:
    from prefect import Flow

    from eightflow.compiler.prefect_flow import CompiledWorkflow
    from eightflow.gateway import ModelGateway


class Workflow:
    """Base class of every workflow. Inputs bind at construction or at ``execute``."""

    #: Registry name (``eightflow run NAME``); defaults to the definition's name.
    name: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        model: str | None = None,
        prompts: PromptRegistry | None = None,
        api_base: str | None = None,
        fallback_models: list[str] | None = None,
        cache: Any = None,
        review_below: float | None = None,
        **inputs: Any,
    ) -> None:
        self.inputs = inputs
        #: Switches the definition's confidence review rules on at this threshold.
        self.review_below = review_below
        self.run_model = model
        self.api_base = api_base
        if fallback_models is None:
            from eightflow.settings import get_settings

            fallback_models = get_settings().fallback_models  # EIGHTFLOW_FALLBACK_MODELS
        self.fallback_models = tuple(fallback_models)
        self.cache = cache
        self._prompts = prompts

    # -- what subclasses provide -------------------------------------------------------

    def define(self) -> WorkflowDefinition:
        raise NotImplementedError(f"{type(self).__name__} must implement define()")

    @classmethod
    def inputs_from_path(cls, path: str) -> dict[str, Any]:
        """Inputs for ``eightflow run NAME PATH``; path-driven workflows override this."""
        raise NotImplementedError(f"{cls.__name__} does not take a file path")

    # -- what handlers use ---------------------------------------------------------------

    @property
    def prompts(self) -> PromptRegistry:
        if self._prompts is None:
            self._prompts = PromptRegistry()
        return self._prompts

    @cached_property
    def model(self) -> ModelGateway:
        from eightflow.gateway import ModelGateway  # imports litellm: only when needed

        return ModelGateway(prompts=self.prompts, api_base=self.api_base)

    # -- identity --------------------------------------------------------------------------

    @cached_property
    def definition(self) -> WorkflowDefinition:
        definition = self.define()
        if self.review_below is not None:
            definition = definition.with_review_below(self.review_below)
        return definition

    @cached_property
    def version(self) -> str:
        ids = self.definition.prompt_ids() or None
        try:
            prints = self.prompts.fingerprint(ids)
        except WorkflowError:
            prints = {}
        return self.definition.version_hash(prints)

    @cached_property
    def compiled(self) -> CompiledWorkflow:
        from eightflow.compiler.prefect_flow import CompiledWorkflow

        return CompiledWorkflow(self.definition, self.version)

    # -- running -------------------------------------------------------------------------

    def new_run(
        self,
        model: str | None = None,
        label: str | None = None,
        *,
        budget: Budget | None = None,
        limiter: CallLimiter | None = None,
    ) -> RunState:
        """Fresh per-run state; a batch passes its shared budget and limiter."""
        d = self.definition
        return RunState(
            workflow=d.name,
            version=self.version,
            budget=budget or Budget(max_tokens=d.max_tokens, max_cost_usd=d.max_cost_usd),
            limiter=limiter or CallLimiter(d.max_concurrency),
            model=model or self.run_model,
            api_base=self.api_base,
            fallback_models=self.fallback_models,
            cache=self.cache,
            document_id=label,
        )

    def review_columns(self, output: str, value: Any) -> dict[str, Any]:
        """The results-table columns showing ``output`` (JSON data), rewritten when a
        reviewer edits it; they match :meth:`result_row`'s default columns."""
        import json

        if isinstance(value, str | int | float | bool) or value is None:
            return {output: value}
        return {output: json.dumps(value)}

    def result_row(self, result: WorkflowResult) -> dict[str, Any]:
        """One flat row of a batch results table; workflows override for nicer columns."""
        import json

        data = result.to_dict()["outputs"]
        return {
            k: v if isinstance(v, str | int | float | bool) or v is None else json.dumps(v)
            for k, v in data.items()
        }

    async def execute(
        self, *, raise_on_failure: bool = True, model: str | None = None, **inputs: Any
    ) -> WorkflowResult:
        """Run the workflow; returns its ``WorkflowResult``.

        Outside a flow run this starts one (on the Prefect API chosen as the CLI chooses it:
        see :mod:`eightflow.server.prefect_env`); inside one, the steps run as its tasks. Every call
        has its own run state, so one instance may run several times at once. Raises
        :class:`WorkflowFailed` (carrying the result) when the run does not succeed, unless
        ``raise_on_failure=False``.
        """
        values, label = normalise_inputs({**self.inputs, **inputs})
        run = self.new_run(model, label)
        result = await self.run_in_flow(run, values, lambda: self.execute_in_flow(run, values))
        if raise_on_failure and not result.ok:
            raise WorkflowFailed(result.error or result.status, result=result)
        return result

    def run(self, **kwargs: Any) -> WorkflowResult:
        """Synchronous ``execute``."""
        return asyncio.run(self.execute(**kwargs))

    def as_flow(self) -> Flow[..., Any]:
        """The Prefect flow for this workflow, for a deployment or the UI to start.

        Its parameters are ``inputs`` and ``model``; each run builds its own run state.
        """
        return self._flow

    @cached_property
    def _flow(self) -> Flow[..., Any]:
        workflow = self

        async def body(inputs: dict[str, Any] | None = None, model: str | None = None) -> Any:
            values, label = normalise_inputs({**workflow.inputs, **(inputs or {})})
            run = workflow.new_run(model, label)
            return flow_return(await workflow.execute_in_flow(run, values))

        return self._build_flow(body)

    def _build_flow(self, body: Callable[..., Awaitable[Any]]) -> Flow[..., Any]:
        body.__name__ = self.definition.name
        body.__doc__ = self.definition.description or type(self).__doc__
        return self.compiled.build_flow(body)

    async def run_in_flow(
        self,
        run: RunState,
        inputs: dict[str, Any],
        steps: Callable[[], Awaitable[WorkflowResult]],
    ) -> WorkflowResult:
        """Await ``steps`` in the current flow run, or in a new one started for this call.

        The new flow is built per call and closes over this call's run state, so nothing
        about the run passes through the instance or a context variable; its body's result
        comes straight back here.
        """
        if "prefect" in sys.modules:
            from prefect.context import FlowRunContext

            if FlowRunContext.get() is not None:
                return await steps()
        from eightflow.server.prefect_env import ensure_connected

        ensure_connected()  # before Prefect reads its settings: the CLI's server rules
        results: list[WorkflowResult] = []

        async def body(inputs: dict[str, str] | None = None, model: str | None = None) -> Any:
            result = await steps()
            results.append(result)
            return flow_return(result)

        flow_call: Any = self._build_flow(body)
        await flow_call(inputs=input_preview(inputs), model=run.model, return_state=True)
        return results[0] if results else crashed_result(run)

    def driver(self, granularity: Granularity = "step") -> Driver:
        """What runs this workflow's steps: its definition's graph."""
        from eightflow.pipeline.driver import StaticDriver

        return StaticDriver(self.definition, self.compiled, granularity)

    async def execute_in_flow(self, run: RunState, inputs: dict[str, Any]) -> WorkflowResult:
        """One run through the pipeline, in the flow run that is current."""
        pipeline = RunPipeline(self)
        finished = await pipeline.run(run, inputs)
        await pipeline.close()
        return finished.result
