"""What a call leaves behind: its record on the step's trace, and its answer parsed into the
prompt's schema, secrets out, a schema miss recorded on the call with feedback for a re-ask."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from eightflow.errors import ModelOutputError, ModelTemporaryError
from eightflow.gateway.call_record import parse_answer, record_call
from eightflow.prompts import Prompt, PromptRegistry
from eightflow.runtime.records import StepRecord
from eightflow.runtime.run_state import StepScope, current_step

MESSAGES = [{"role": "user", "content": "a document"}]


def _prompt(prompt_id: str) -> Prompt:
    return PromptRegistry().get(prompt_id)


@pytest.mark.parametrize(
    ("text", "error", "digest"),
    [
        pytest.param("an answer", None, True, id="an answer"),
        pytest.param(None, ModelTemporaryError("429", model="m", provider="openai"), False,
                     id="a failed call"),
    ],
)  # fmt: skip
def test_a_call_is_recorded_on_the_current_steps_trace(
    text: str | None, error: Exception | None, digest: bool
) -> None:
    scope = StepScope(record=StepRecord(name="summarization"))
    token = current_step.set(scope)
    try:
        call = record_call(
            _prompt("summarization"), "openai/gpt-4o-mini", datetime.now(UTC),
            time.perf_counter(), tokens=(12, 5, None), cost=0.001, text=text,
            error=error,  # type: ignore[arg-type]
        )  # fmt: skip
    finally:
        current_step.reset(token)
    assert scope.record.calls == [call]
    assert (call.provider, call.tokens_in, call.tokens_out) == ("openai", 12, 5)
    assert (call.output_digest is not None) is digest
    assert call.error_type == (type(error).__name__ if error else None)


def test_without_a_step_the_call_is_still_returned() -> None:
    call = record_call(_prompt("sentiment"), "local/embedded", datetime.now(UTC), 0.0)
    assert call.prompt_id == "sentiment" and call.tokens_in == 0


def test_an_answer_outside_its_schema_is_recorded_with_feedback() -> None:
    call = record_call(_prompt("sentiment"), "openai/gpt-4o-mini", datetime.now(UTC), 0.0)
    with pytest.raises(ModelOutputError) as info:
        parse_answer(_prompt("sentiment"), '{"label": 42}', "openai/gpt-4o-mini", call, MESSAGES)
    assert "outside its schema" in str(info.value) and info.value.feedback
    assert call.error_type == "ModelOutputError"


@pytest.mark.parametrize(
    "text",
    [
        '{"label": "positive", "score": 0.6, "confidence": 0.9}',
        '```json\n{"label": "positive", "score": 0.6, "confidence": 0.9}\n```',
    ],
    ids=["bare JSON", "in a code fence"],
)
def test_a_valid_answer_is_parsed_into_the_schema(text: str) -> None:
    prompt = _prompt("sentiment")
    call = record_call(prompt, "openai/gpt-4o-mini", datetime.now(UTC), 0.0)
    parsed = parse_answer(prompt, text, "openai/gpt-4o-mini", call, MESSAGES)
    assert prompt.output_schema is not None and isinstance(parsed, prompt.output_schema)
    assert (parsed.label, parsed.score) == ("positive", 0.6)
    assert call.error is None
