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
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from eightflow.definition import WorkflowDefinition
from eightflow.documents import Document
from eightflow.errors import BudgetExceeded, StepTimeout, WorkflowError, WorkflowFailed
from eightflow.observe.sanitize import sanitize_text
from eightflow.prompts import PromptRegistry
from eightflow.runtime.budget import Budget
from eightflow.runtime.limiter import CallLimiter
from eightflow.runtime.records import RunStatus, TokenUsage, WorkflowResult, total_cost
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
        see :mod:`eightflow.prefect_env`); inside one, the steps run as its tasks. Every call
        has its own run state, so one instance may run several times at once. Raises
        :class:`WorkflowFailed` (carrying the result) when the run does not succeed, unless
        ``raise_on_failure=False``.
        """
        values, label = _normalise_inputs({**self.inputs, **inputs})
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
            values, label = _normalise_inputs({**workflow.inputs, **(inputs or {})})
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
        from eightflow.prefect_env import ensure_connected

        ensure_connected()  # before Prefect reads its settings: the CLI's server rules
        results: list[WorkflowResult] = []

        async def body(inputs: dict[str, str] | None = None, model: str | None = None) -> Any:
            result = await steps()
            results.append(result)
            return flow_return(result)

        flow_call: Any = self._build_flow(body)
        await flow_call(inputs=_input_preview(inputs), model=run.model, return_state=True)
        return results[0] if results else _crashed(run)

    async def execute_replay(self, run: RunState, inputs: dict[str, Any]) -> WorkflowResult:
        """Run with a prepared ``RunState`` (replay), in a flow, without a ledger record."""
        return await self.run_in_flow(
            run, inputs, lambda: self.execute_in_flow(run, inputs, record=False)
        )

    async def execute_in_flow(
        self, run: RunState, inputs: dict[str, Any], *, record: bool = True
    ) -> WorkflowResult:
        """Run the steps inside the flow run that is current, and publish the trace."""
        from eightflow.compiler.artifacts import publish_run
        from eightflow.runtime.executor import StepExecutor

        started = datetime.now(UTC)
        # Import litellm (seconds) before the steps start, not inside the first of them:
        # it would block the event loop and make every concurrent step look slow.
        await asyncio.to_thread(lambda: self.model)
        executor = StepExecutor(self.definition, run, inputs)
        outcome = await self.compiled.run_steps(executor)
        result = build_result(self.definition, run, executor.outputs, outcome.fatal, started)
        result.inputs = _input_preview(inputs)
        if any(rule.enabled for rule in self.definition.review):
            from eightflow.review.flow import review_single_run

            result.ui_url = result.ui_url or flow_run_url(result.flow_run_id)
            result = await review_single_run(self.definition, result, document_id=run.document_id)
        if record:
            await self.record(result, run, inputs)
            result.target_breaches = await self.check_targets(result.run_id)
        await publish_run(self.definition, result)
        from eightflow.observe.otel import export_run

        export_run(result)
        return result

    async def check_targets(self, run_id: str) -> list[dict[str, Any]]:
        """Judge recent runs against the definition's targets; breaches become events."""
        targets = self.definition.targets
        if not targets.any:
            return []
        from eightflow.observe.targets import announce, check_targets
        from eightflow.store.ledger import default_ledger

        def judge() -> list[dict[str, Any]]:
            ledger = default_ledger()
            checks = check_targets(ledger, self.definition.name, targets)
            announce(self.definition.name, run_id, checks, ledger)
            return [c.model_dump() for c in checks if c.breached]

        return await asyncio.to_thread(judge)

    async def record(
        self,
        result: WorkflowResult,
        run: RunState,
        inputs: dict[str, Any],
        batch_id: str | None = None,
    ) -> None:
        """Append the run to the ledger (off the event loop: several inserts)."""
        from eightflow.store.ledger import default_ledger
        from eightflow.store.recorded_inputs import recorded_inputs

        info = inputs.get("document_info") or {}
        replayable = {k: v for k, v in inputs.items() if k != "document_info"}
        await asyncio.wrap_future(
            default_ledger().submit_run(
                result,
                batch_id=batch_id,
                document_id=run.document_id,
                document_sha256=info.get("sha256"),
                inputs=recorded_inputs(replayable, info),  # an excerpt + sha256 by default
                model=run.model,
                cache_hits=run.cache_hits,
            )
        )


def build_result(
    definition: WorkflowDefinition,
    run: RunState,
    outputs_by_step: dict[str, dict[str, Any]],
    fatal: WorkflowError | None,
    started: datetime,
) -> WorkflowResult:
    """Fold step records and outputs into a ``WorkflowResult``; evaluate the criteria."""
    outputs: dict[str, Any] = {}
    for name in definition.topological_order():
        outputs.update(outputs_by_step.get(name, {}))
    status: RunStatus = "completed"
    error = error_type = None
    failed_criteria: list[str] = []
    if fatal is not None:
        cause = fatal.original if isinstance(fatal.original, BaseException) else fatal
        error, error_type = sanitize_text(str(fatal), limit=2000), type(cause).__name__
        status = "failed"
        if isinstance(cause, BudgetExceeded):
            status = "budget_exceeded"
        elif isinstance(cause, StepTimeout) and cause.step is None:
            status = "timed_out"
    else:
        for criterion in definition.success_criteria:
            ok, why = criterion.evaluate(outputs)
            if not ok:
                failed_criteria.append(criterion.name)
                error = (error + "; " if error else "") + f"{criterion.name}: {why}"
        if failed_criteria:
            status, error_type = "criteria_failed", "CriteriaFailed"
            error = "success criteria failed: " + (error or "")
    records = [run.records[leaf.name] for leaf in definition.leaves]
    finished = datetime.now(UTC)
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    flow_run_id = str(ctx.flow_run.id) if ctx and ctx.flow_run else None
    return WorkflowResult(
        run_id=run.run_id,
        workflow=definition.name,
        version=run.version,
        status=status,
        outputs=outputs,
        steps=records,
        cost_usd=total_cost(records),
        tokens=TokenUsage(
            input=sum(r.tokens_in for r in records), output=sum(r.tokens_out for r in records)
        ),
        model_calls=run.model_calls,
        cache_hits=run.cache_hits,
        started=started,
        finished=finished,
        duration_ms=(finished - started).total_seconds() * 1000,
        error=error,
        error_type=error_type,
        failed_criteria=failed_criteria,
        flow_run_id=flow_run_id,
        ui_url=flow_run_url(flow_run_id),
    )


def flow_return(result: WorkflowResult) -> Any:
    """What a workflow's flow run returns: a summary, or a Failed state naming the cause."""
    if not result.ok:
        from prefect.states import Failed

        return Failed(message=f"{result.status}: {result.error or ''}".strip())
    return {"run_id": result.run_id, "status": result.status, "cost_usd": result.cost_usd}


def flow_run_url(flow_run_id: str | None) -> str | None:
    """The v2 UI page of a flow run (the server's default UI), when a UI URL is known."""
    if not flow_run_id:
        return None
    from prefect.settings import get_current_settings

    ui = get_current_settings().ui_url
    return f"{str(ui).rstrip('/')}/v2/runs/flow-run/{flow_run_id}" if ui else None


def _normalise_inputs(inputs: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Documents become their text plus ``document_info``; the label names the run."""
    values = dict(inputs)
    label = values.pop("label", None)
    doc = values.get("document")
    if isinstance(doc, Document):
        values["document"] = doc.text
        values["document_info"] = doc.model_dump(exclude={"text"})
        label = label or doc.id
    return values, label


def _input_preview(inputs: dict[str, Any]) -> dict[str, str]:
    from eightflow.observe.sanitize import excerpt

    return {k: excerpt(v, limit=200) for k, v in inputs.items() if k != "document_info"}


def _crashed(run: RunState, why: str = "the flow run crashed before a result") -> WorkflowResult:
    """A failed result for a run that produced none (its flow run crashed)."""
    now = datetime.now(UTC)
    return WorkflowResult(
        run_id=run.run_id,
        workflow=run.workflow,
        version=run.version,
        status="failed",
        started=now,
        finished=now,
        duration_ms=0.0,
        error=why,
        steps=list(run.records.values()),
    )
