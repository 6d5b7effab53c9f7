"""The error vocabulary of eightflow.

Every error a user can catch lives here, so that handlers, recovery functions and the
compiler agree on one taxonomy. They are plain exceptions with picklable state: Prefect
serializes task failures, and litellm's own exceptions have been reported not to pickle,
so the gateway maps them to these before they leave it.
"""

from __future__ import annotations

from typing import Any


class WorkflowError(Exception):
    """Base of every error raised while defining or running a workflow.

    When the error happened inside a step, ``step`` names it, ``attempt`` is the 1-based
    attempt number and ``original`` is the exception the handler raised.
    """

    def __init__(
        self,
        message: str = "",
        *,
        step: str | None = None,
        attempt: int | None = None,
        original: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.attempt = attempt
        self.original = original

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only state would be lost by BaseException's default pickling.
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))

    def __str__(self) -> str:
        where = f"step '{self.step}'" if self.step else ""
        if self.attempt:
            where += f" (attempt {self.attempt})"
        return f"{where}: {self.message}" if where else self.message


def _rebuild(cls: type[WorkflowError], message: str, state: dict[str, Any]) -> WorkflowError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class WorkflowDefinitionError(WorkflowError):
    """The definition itself is wrong: unknown dependency, cycle, duplicate name, ...

    Deliberately not a ValueError: pydantic would wrap it in a ValidationError and bury
    the step name.
    """

    def __str__(self) -> str:  # the message already names the step
        return self.message


class StepFailed(WorkflowError):
    """A step failed and recovery did not rescue it. ``original`` holds the cause.

    ``retry`` says whether recovery chose to run the step again (within its retry policy);
    the compiled task's retry condition reads it, so nothing else is ever retried.
    """

    def __init__(self, message: str = "", *, retry: bool = False, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry = retry


class StepTimeout(WorkflowError):
    """A step, or the whole workflow, ran past its time limit."""


class ContextKeyError(WorkflowError, KeyError, AttributeError):
    """A handler read a name that its context does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return WorkflowError.__str__(self)


class CriteriaFailed(WorkflowError):
    """The run finished but one or more success criteria did not hold."""

    def __init__(self, message: str = "", *, failed: list[str] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.failed = list(failed or [])


class BudgetExceeded(WorkflowError):
    """A run crossed its token or USD budget; no further model call is started."""

    def __init__(
        self,
        message: str = "",
        *,
        limit: str = "",
        spent: float = 0.0,
        cap: float = 0.0,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.limit = limit
        self.spent = spent
        self.cap = cap


class ModelError(WorkflowError):
    """A model call failed. ``model`` and ``provider`` say where, ``status_code`` what."""

    def __init__(
        self,
        message: str = "",
        *,
        model: str | None = None,
        provider: str | None = None,
        status_code: int | None = None,
        kind: str | None = None,
        retry_after: float | None = None,
        billable: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.model = model
        self.provider = provider
        self.status_code = status_code
        self.kind = kind  # the provider error's class name, e.g. "RateLimitError"
        self.retry_after = retry_after  # seconds the provider asked us to wait, if it did
        # True when the provider may have billed the call (it timed out, or the answer was
        # lost on the way back): the budget then keeps the call's reserved estimate.
        self.billable = billable


class ModelTemporaryError(ModelError):
    """Worth retrying: rate limits, timeouts, connection and 5xx errors."""


class ModelPermanentError(ModelError):
    """Not worth retrying: bad request, authentication, unknown model, context too long."""


class ModelOutputError(ModelTemporaryError):
    """The model answered, but not in the declared output schema.

    Temporary: a sampling model often answers validly on the next try, and retries stay
    bounded by the step's policy. ``feedback`` lists the validation errors; the next
    attempt sends them back to the model with its answer (a re-ask).
    """

    def __init__(self, message: str = "", *, feedback: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.feedback = feedback


class UnpricedModelError(WorkflowError):
    """A cost cap was set for a model whose price is unknown, so the cap could not hold."""

    def __init__(self, message: str = "", *, model: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.model = model


class PromptError(WorkflowError, ValueError):
    """A prompt file is malformed, missing, or rendered without a variable it needs."""


class DocumentError(WorkflowError, ValueError):
    """A document could not be loaded: its own input is at fault, not the workflow."""

    def __init__(self, message: str = "", *, path: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class WorkflowFailed(WorkflowError):
    """A run ended without success. ``result`` is its full ``WorkflowResult``."""

    def __init__(self, message: str = "", *, result: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.result = result
