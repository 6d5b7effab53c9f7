"""The one compiler: a ``WorkflowDefinition`` becomes a Prefect 3 flow.

- every leaf step is a Prefect task named after the step, with retries from its
  ``RetryPolicy`` and a ``retry_condition_fn`` that retries only what recovery chose to;
- steps are awaited as async tasks in the flow's event loop, each started as soon as its
  dependencies finish (sub-steps of a ``ParallelStep`` start together), with the upstream
  states passed as ``wait_for`` so the UI draws the graph;
- a failed step stops dependents; ``Recovery.fail_workflow()`` stops new steps starting.

Async tasks in one loop, not ``.submit`` to a thread pool: Prefect's default thread pool
is unbounded (500 tasks ran on 327 threads here) and would give every task its own event
loop, which our shared model-call limiter could not span.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from prefect import Flow, task
from prefect.context import TaskRunContext
from prefect.states import Failed, State

from eightflow.compiler.flows import flow
from eightflow.compiler.task_events import send_fewer_events
from eightflow.compiler.task_options import step_task_options
from eightflow.definition import WorkflowDefinition
from eightflow.errors import StepFailed, StepTimeout, WorkflowError
from eightflow.runtime.executor import StepExecutor
from eightflow.safety.sanitize import sanitize_text
from eightflow.settings import get_settings

# Options are assembled as dicts in one place (task_options); Prefect's overloads cannot
# type-check ``**options``, so the task factory is used untyped here.
_task: Any = task

current_executor: ContextVar[StepExecutor | None] = ContextVar("eightflow_executor", default=None)


def _task_run_name() -> str:
    from prefect.runtime import task_run

    params = task_run.parameters
    doc = params.get("document")
    return f"{params['step_name']} [{doc}]" if doc else str(params["step_name"])


async def _step_body(step_name: str, document: str | None = None) -> list[str]:
    """The body of every step task: one attempt of the step, via the run's executor."""
    executor = current_executor.get()
    if executor is None:
        raise RuntimeError(f"step '{step_name}' ran outside an eightflow run")
    ctx = TaskRunContext.get()
    attempt = ctx.task_run.run_count if ctx and ctx.task_run.run_count else 1
    if ctx is not None:
        executor.run.records[step_name].task_run_id = str(ctx.task_run.id)
    result = await executor.attempt(step_name, attempt)
    return list(result.outputs)


@dataclass
class Orchestration:
    """How the steps of one run ended: the first fatal error, or a retry to be made."""

    fatal: WorkflowError | None = None
    retry: StepFailed | None = None
    states: dict[str, State[Any]] = field(default_factory=dict)


class CompiledWorkflow:
    """Prefect tasks for a definition's steps, and the orchestration that runs them.

    Two granularities share one orchestration. ``step`` (single runs): every step is a
    Prefect task. ``document`` (large batches): one Prefect task per document runs the
    steps in-process; a step's retryable failure fails the document task, Prefect retries
    it, and the retry resumes where it stopped, completed steps kept. Either way Prefect is
    the one retry layer, and each step's own policy bounds its attempts.
    """

    def __init__(self, definition: WorkflowDefinition, version: str) -> None:
        self.definition = definition
        self.version = version
        self.flow_name = compiled_flow_name(definition.name)
        self.tasks = {
            leaf.name: _task(
                _step_body,
                **step_task_options(
                    leaf.retry_policy or definition.default_retry_policy, leaf.name
                ),
                task_run_name=_task_run_name,
            )
            for leaf in definition.leaves
        }
        policies = [
            leaf.retry_policy or definition.default_retry_policy for leaf in definition.leaves
        ]
        widest = max(policies, key=lambda p: p.max_attempts)
        options = step_task_options(widest, f"{definition.name}-document")
        options["retries"] = min(sum(p.retries for p in policies), 50)
        compiled = self

        async def _document_body(document: str) -> Any:
            """All steps of one document, resuming after a retry where the last try stopped."""
            executor = current_executor.get()
            if executor is None:
                raise RuntimeError("document task ran outside an eightflow batch")
            ctx = TaskRunContext.get()
            if ctx is not None:
                for record in executor.run.records.values():
                    record.task_run_id = str(ctx.task_run.id)
            executor.stopped = None
            outcome = await compiled._orchestrate(executor, as_tasks=False)
            if outcome.fatal is None and outcome.retry is not None:
                raise outcome.retry
            if outcome.fatal is not None:
                message = f"{type(outcome.fatal).__name__}: {outcome.fatal}"
                return Failed(message=sanitize_text(message, limit=500))
            return list(executor.outputs)

        # Created and started at once: no event for its instant Pending, and a document
        # that ends within running_event_after_s sends only its final state (task_events).
        self.document_task = send_fewer_events(
            _task(_document_body, **options, task_run_name="{document}"),
            running_after_s=get_settings().running_event_after_s,
        )

    async def run_steps(self, executor: StepExecutor) -> Orchestration:
        """Run every step as its own Prefect task; never raises for a step's failure."""
        return await self._orchestrate(executor, as_tasks=True)

    async def run_document(self, executor: StepExecutor) -> Orchestration:
        """Run every step inside one Prefect task for the document (batch granularity)."""
        token = current_executor.set(executor)
        try:
            state = await self.document_task(
                document=executor.run.document_id or "document", return_state=True
            )
        finally:
            current_executor.reset(token)
        outcome = Orchestration(states={"document": state})
        if not state.is_completed():
            failures = [
                executor.failures[n]
                for n in self.definition.topological_order()
                if n in executor.failures
            ]
            outcome.fatal = failures[0] if failures else _failure_of(state)
        return outcome

    async def _orchestrate(self, executor: StepExecutor, *, as_tasks: bool) -> Orchestration:
        outcome = Orchestration()
        token = current_executor.set(executor)
        executor.run.loop = asyncio.get_running_loop()
        jobs: dict[str, asyncio.Task[bool]] = {}
        document = executor.run.document_id

        async def run_leaf(name: str) -> bool:
            deps = self.definition.leaf_dependencies[name]
            ok = all([await jobs[d] for d in deps])
            record = executor.run.records[name]
            if record.status in ("completed", "skipped"):
                return True  # done by an earlier try of this document
            if not ok or executor.stopped is not None:
                if record.status not in ("failed", "running"):
                    record.status = "not_run"
                    record.error = "upstream step failed" if not ok else "workflow stopped"
                return False
            if as_tasks:
                wait_for = [outcome.states[d] for d in deps if d in outcome.states]
                state = await self.tasks[name](
                    step_name=name,
                    document=document,
                    wait_for=wait_for or None,
                    return_state=True,
                )
                outcome.states[name] = state
                if state.is_completed():
                    return True
                error = executor.failures.get(name) or _failure_of(state)
            else:
                try:
                    await executor.attempt(name, executor.next_attempt(name))
                    return True
                except StepFailed as failure:
                    if failure.retry:
                        outcome.retry = outcome.retry or failure
                        executor.stopped = failure
                        return False
                    error = executor.failures.get(name) or failure
            if outcome.fatal is None:
                outcome.fatal = error
            executor.stopped = error
            return False

        try:
            for name in self.definition.topological_order():
                jobs[name] = asyncio.ensure_future(run_leaf(name))
            timeout = self.definition.timeout_seconds
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.gather(*jobs.values())
            except TimeoutError:
                for job in jobs.values():
                    job.cancel()
                await asyncio.gather(*jobs.values(), return_exceptions=True)
                outcome.fatal = StepTimeout(f"workflow timed out after {timeout} s")
                for record in executor.run.records.values():
                    if record.status in ("pending", "running"):
                        record.status = "failed" if record.status == "running" else "not_run"
                        record.error = "workflow timed out"
        finally:
            current_executor.reset(token)
        return outcome

    def build_flow(self, body: Callable[..., Any], **options: Any) -> Flow[..., Any]:
        """A Prefect flow named after the definition, versioned by its hash."""
        built: Flow[..., Any] = flow(
            body,
            name=self.flow_name,
            version=self.version,
            description=self.definition.description or None,
            validate_parameters=True,
            persist_result=False,
            log_prints=False,
            **options,
        )
        return built


def _failure_of(state: State[Any]) -> WorkflowError:
    data = state.data
    if isinstance(data, StepFailed):
        return data.original if isinstance(data.original, WorkflowError) else data
    if isinstance(data, WorkflowError):
        return data
    if isinstance(data, BaseException):
        return WorkflowError(f"{type(data).__name__}: {data}", original=data)
    return WorkflowError(state.message or "step failed")


def compiled_flow_name(workflow: str) -> str:
    """The Prefect flow name of a compiled workflow: ``document-analysis``.

    The name of the workflow's deployable ``@flow`` in ``flows/`` (underscores as
    dashes): a CLI run and a deployment's run of one workflow are runs of one flow in the
    UI. (A flow name holds no parameter schema: each deployment keeps its own.)
    """
    return workflow.replace("_", "-")
