"""Running one step, the same way whatever drives it.

The compiler calls :meth:`StepExecutor.attempt` from inside a Prefect task (one task per
step), and the batch runner from inside one task per document. Either way a step attempt
builds the step's context, calls the handler under its timeout, records the trace, and on
failure asks recovery what to do: skip and fallback are applied here at once; retry and
fail are returned to the caller as a :class:`StepFailed` whose ``retry`` flag Prefect's
``retry_condition_fn`` reads.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from eightflow.definition import Recovery, Step, WorkflowDefinition
from eightflow.errors import (
    BudgetExceeded,
    ModelError,
    ModelPermanentError,
    ModelTemporaryError,
    StepFailed,
    StepTimeout,
    WorkflowDefinitionError,
    WorkflowError,
)
from eightflow.runtime.context import Context, StepResult
from eightflow.runtime.records import StepRecord
from eightflow.runtime.run_state import RunState, StepScope, current_run, current_step
from eightflow.safety.excerpts import excerpt
from eightflow.safety.sanitize import sanitize_text


def default_recovery(error: WorkflowError) -> Recovery:
    """Retry what is transient (``ModelTemporaryError``); fail on everything else."""
    if isinstance(error.original, ModelTemporaryError) or isinstance(error, ModelTemporaryError):
        return Recovery.retry()
    return Recovery.fail_workflow()


class StepExecutor:
    """Executes the steps of one run of one definition and keeps their records."""

    def __init__(
        self,
        definition: WorkflowDefinition,
        run: RunState,
        inputs: Mapping[str, Any],
        on_failure: Callable[[WorkflowError], Recovery] | None = None,
    ) -> None:
        self.definition = definition
        self.run = run
        self.inputs = dict(inputs)
        self.on_failure = on_failure or definition.on_failure
        self.outputs: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str] = {}
        self.stopped: WorkflowError | None = None
        self._fallback: dict[str, str] = {}
        self.failures: dict[str, WorkflowError] = {}  # step -> the error that ended it
        self._attempts: dict[str, int] = {}
        for leaf in definition.leaves:
            run.records.setdefault(
                leaf.name, StepRecord(name=leaf.name, group=definition.parents.get(leaf.name))
            )

    def next_attempt(self, name: str) -> int:
        """Attempt number for in-process runs, where Prefect's run_count is per document."""
        self._attempts[name] = self._attempts.get(name, 0) + 1
        return self._attempts[name]

    def policy(self, step: Step) -> Any:
        return step.retry_policy or self.definition.default_retry_policy

    def context_for(self, step: Step) -> Context:
        data = dict(self.inputs)
        for ancestor in self.definition.ancestors[step.name]:
            data.update(self.outputs.get(ancestor, {}))
        return Context(data, step=step.name)

    async def attempt(self, name: str, attempt: int) -> StepResult:
        """One attempt of a step (Prefect's run_count), with fallbacks applied inside it."""
        step = self.definition.step(name)
        record = self.run.records[name]
        tried_models: set[str] = set()
        while True:
            record.attempts += 1
            record.status = "running"
            if record.started is None:
                record.started = datetime.now(UTC)
            t0 = time.perf_counter()
            try:
                result = await self._invoke(step, record, attempt)
                self.merge(step, result)
            except BaseException as exc:
                if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                    self._close(record, t0, "failed", exc)
                    raise
                error = _as_step_error(exc, name, record.attempts)
                cause = error.original or error
                if isinstance(cause, BudgetExceeded | WorkflowDefinitionError):
                    self._close(record, t0, "failed", cause)
                    self.failures[name] = cause if isinstance(cause, WorkflowError) else error
                    message = cause.message if isinstance(cause, WorkflowError) else str(cause)
                    raise StepFailed(
                        message, step=name, attempt=record.attempts, original=cause
                    ) from None
                decision = self._decide(step, error, attempt)
                if decision.action == "skip":
                    self._close(record, t0, "skipped", cause)
                    result = StepResult.skipped_with(decision.outputs)
                    self.merge(step, result)
                    return result
                if decision.action == "fallback" and decision.model not in tried_models:
                    assert decision.model is not None
                    tried_models.add(decision.model)
                    self._fallback[name] = decision.model
                    record.fallback_model = decision.model
                    self._close(record, t0, "running", cause)
                    continue
                retry = decision.action == "retry" and attempt < self.policy(step).max_attempts
                self._close(record, t0, "running" if retry else "failed", cause)
                failure = StepFailed(
                    sanitize_text(error.message, limit=500),
                    step=name,
                    attempt=record.attempts,
                    original=cause,
                    retry=retry,
                )
                if not retry:
                    self.failures[name] = error
                else:
                    await self._honour_retry_after(step, cause, attempt, record)
                raise failure from None
            self._close(record, t0, "completed", None)
            record.output_keys = list(result.outputs)
            return result

    async def _invoke(self, step: Step, record: StepRecord, attempt: int) -> StepResult:
        context = self.context_for(step)
        if step.observe and record.input is None:
            record.input = excerpt({k: context.get(k) for k in context}, limit=300)
        scope = StepScope(
            record=record,
            attempt=attempt,
            step_model=step.model,
            model_override=self._fallback.get(step.name),
        )
        token_run, token_step = current_run.set(self.run), current_step.set(scope)
        try:
            async with asyncio.timeout(step.timeout_seconds):
                result = await _call(step.handler, context)
        except TimeoutError:
            raise StepTimeout(
                f"timed out after {step.timeout_seconds} s", step=step.name, attempt=attempt
            ) from None
        finally:
            current_step.reset(token_step)
            current_run.reset(token_run)
        if not isinstance(result, StepResult):
            raise WorkflowError(
                f"handler {step.handler_name()} returned {type(result).__name__}, not a StepResult",
                step=step.name,
            )
        missing = [f for f in step.outputs if f not in result.outputs]
        if missing:
            raise WorkflowError(
                f"declared outputs not returned: {', '.join(missing)}", step=step.name
            )
        return result

    def merge(self, step: Step, result: StepResult) -> None:
        """Record a step's outputs; a field written by two steps is a definition error."""
        for field in result.outputs:
            owner = self.owners.get(field)
            if owner is not None and owner != step.name:
                raise WorkflowDefinitionError(
                    f"output '{field}' is written by both step '{owner}' and step '{step.name}'",
                    step=step.name,
                )
            if field in self.inputs:
                raise WorkflowDefinitionError(
                    f"step '{step.name}' writes output '{field}', which is a workflow input",
                    step=step.name,
                )
        for field in result.outputs:
            self.owners[field] = step.name
        self.outputs[step.name] = dict(result.outputs)

    def _decide(self, step: Step, error: WorkflowError, attempt: int) -> Recovery:
        handler = self.on_failure or default_recovery
        try:
            decision = handler(error)
        except Exception as exc:  # a broken recovery function must not hide the failure
            return Recovery.fail_workflow(reason=f"on_failure raised {exc!r}")
        if not isinstance(decision, Recovery):
            return Recovery.fail_workflow(reason=f"on_failure returned {decision!r}")
        exhausted = attempt >= self.policy(step).max_attempts
        fallbacks = list(self.run.fallback_models or self.definition.fallback_models)
        cause = error.original or error
        wants_fallback = isinstance(cause, ModelPermanentError) or (
            isinstance(cause, ModelError) and exhausted and decision.action == "retry"
        )
        if decision.action in ("retry", "fail_workflow") and wants_fallback:
            used = {self._fallback.get(step.name)}
            remaining = [m for m in fallbacks if m not in used]
            if remaining and self.on_failure is None:
                return Recovery.fallback(model=remaining[0], reason="default fallback")
        return decision

    async def _honour_retry_after(
        self, step: Step, cause: BaseException, attempt: int, record: StepRecord
    ) -> None:
        """Wait out what the provider's Retry-After asks beyond the policy's own delay."""
        wanted = getattr(cause, "retry_after", None)
        if not wanted:
            return
        extra = float(wanted) - self.policy(step).base_delay(max(attempt - 1, 0))
        record.notes["retry_after_s"] = float(wanted)
        if extra > 0:
            await asyncio.sleep(extra)

    def _close(
        self, record: StepRecord, t0: float, status: Any, error: BaseException | None
    ) -> None:
        record.status = status
        record.finished = datetime.now(UTC)
        elapsed = (time.perf_counter() - t0) * 1000
        record.duration_ms = (record.duration_ms or 0.0) + elapsed
        if error is not None:
            record.error = excerpt(str(error), limit=300)
            record.error_type = type(error).__name__
        elif status == "completed":
            record.error = record.error_type = None


async def _call(handler: Any, context: Context) -> Any:
    if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004
    ):
        return await handler(context)
    result = await asyncio.to_thread(handler, context)
    if inspect.isawaitable(result):
        result = await result
    return result


def _as_step_error(exc: BaseException, step: str, attempt: int) -> WorkflowError:
    """The error ``on_failure`` sees: the original where it is ours, wrapped otherwise."""
    if isinstance(exc, WorkflowError):
        exc.step = exc.step or step
        exc.attempt = attempt
        return exc
    return WorkflowError(f"{type(exc).__name__}: {exc}", step=step, attempt=attempt, original=exc)
