"""Re-asking a model whose answer failed its schema, with the validation errors.

When an answer does not validate, the step's next attempt (bounded by its retry policy:
``ModelOutputError`` is a temporary error) does not send the same request blindly. It sends
the original messages, then the bad answer as the assistant's turn, then a user message
listing what was wrong, the way Instructor and pydantic-ai re-ask. Each re-ask is written
to the step's trace under ``notes["reasks"]`` with the attempt, the prompt and the reason.

The pending re-ask lives on the run (``RunState.reasks``), keyed by step and request, so it
survives Prefect's task retries, which reuse the run state; only the latest bad answer is
kept, so a re-ask's messages never grow past the original request plus two turns.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from eightflow.runtime.run_state import RunState, StepScope
from eightflow.safety.sanitize import sanitize_text

MAX_ERRORS = 10  # validation errors quoted back to the model
MAX_ANSWER_CHARS = 4000  # of the bad answer echoed as the assistant's turn


def validation_feedback(exc: ValidationError | ValueError) -> str:
    """The errors as lines a model can act on: ``- field.path: message``.

    The offending input values are left out: they are the model's own answer, already in
    the conversation, and could be long.
    """
    if not isinstance(exc, ValidationError):
        return f"- {exc}"
    lines = []
    for error in exc.errors()[:MAX_ERRORS]:
        where = ".".join(str(part) for part in error.get("loc", ())) or "(root)"
        lines.append(f"- {where}: {error.get('msg', 'invalid')}")
    extra = exc.error_count() - MAX_ERRORS
    if extra > 0:
        lines.append(f"- ... and {extra} more")
    return "\n".join(lines)


def remember_invalid(
    run: RunState | None, scope: StepScope | None, key: str, answer: str, feedback: str
) -> None:
    """Keep the bad answer and its errors for the step's next attempt at the same request."""
    if run is None or scope is None:
        return  # outside a run there is no next attempt to re-ask in
    run.reasks[(scope.record.name, key)] = (answer[:MAX_ANSWER_CHARS], feedback)


def reask_messages(
    run: RunState | None,
    scope: StepScope | None,
    key: str,
    messages: list[dict[str, str]],
    schema_name: str,
    prompt_ref: str,
) -> list[dict[str, str]] | None:
    """The re-ask for this request if its last answer was invalid, else None.

    Taking it records the re-ask in the step's trace; it is consumed, so a later success
    leaves nothing pending, and a later failure stores a fresh one.
    """
    if run is None or scope is None:
        return None
    pending = run.reasks.pop((scope.record.name, key), None)
    if pending is None:
        return None
    answer, feedback = pending
    reasks: list[dict[str, Any]] = scope.record.notes.setdefault("reasks", [])
    reasks.append(
        {
            "attempt": scope.attempt,
            "prompt": prompt_ref,
            "reason": sanitize_text(f"outside schema {schema_name}:\n{feedback}", limit=1000),
        }
    )
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {
            "role": "user",
            "content": (
                f"Your answer did not match the required JSON schema {schema_name}. "
                f"Validation errors:\n{feedback}\n"
                "Answer again with only a JSON object that fixes these errors and matches "
                "the schema."
            ),
        },
    ]
