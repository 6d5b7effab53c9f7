"""A suspended review's deadline: the timeout run resumes only the run that still waits for
*that* review, marks it timed out first, and takes the mark back when the resume fails.

Against Prefect's API (the test server): a flow run is put in the state a suspended review
leaves it in (Paused, its pause key, the review form's schema stored as the run's input),
then :func:`apply_timeout` acts on it as the ``review-timeout`` run does at the deadline.
The whole path on a real stack (suspend, nobody answers, the run ends needs_review) is
``tests/review/test_queue_e2e.py``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.input import aread_flow_run_input, keyset_from_base_key
from prefect.states import Completed, Paused, Running
from pydantic import BaseModel

from eightflow.definition.review import ReviewRule
from eightflow.review.flow import review_form
from eightflow.review.requests import ReviewRequest
from eightflow.review.timeouts import (
    MARGIN_S,
    apply_timeout,
    form_defaults,
    schedule_timeout,
    suspend_key,
    timed_out_key,
    timeout_note,
    was_timed_out,
)

pytestmark = pytest.mark.prefect


class Mood(BaseModel):
    label: str
    confidence: float = 0.5


RULE = ReviewRule(
    name="mood_check", step="mood", output="mood", always=True,
    output_schema=Mood, editable=("label",),
)  # fmt: skip


def request(review_id: str = "r1") -> ReviewRequest:
    return ReviewRequest(
        review_id=review_id, run_id="run1", workflow="w", version="1", step="mood",
        rule=RULE.name, output="mood", proposed={"label": "calm", "confidence": 0.2},
        reasons=["always"], actions=list(RULE.actions), editable=["label"],
    )  # fmt: skip


@flow(name="waits-for-review")
def waits() -> None:
    return None


async def waiting_run(pause_key: str, *, with_form: bool = True, timeout_s: int = 3600) -> UUID:
    """A flow run left as a suspended review leaves it."""
    keyset = keyset_from_base_key(pause_key)
    async with get_client() as client:
        flow_id = await client.create_flow(waits)  # a deployment's run: it can reschedule
        deployment_id = await client.create_deployment(flow_id=flow_id, name="e")
        run = await client.create_flow_run_from_deployment(deployment_id)
        await client.set_flow_run_state(run.id, Running(), force=True)
        paused = Paused(timeout_seconds=timeout_s, reschedule=True, pause_key=pause_key)
        paused.state_details.run_input_keyset = keyset
        await client.set_flow_run_state(run.id, paused, force=True)
    if with_form:
        form = review_form(RULE, request())
        await form.save(keyset, flow_run_id=run.id)
    return run.id


async def state_of(run_id: UUID) -> Any:
    async with get_client() as client:
        return (await client.read_flow_run(run_id)).state


async def test_the_run_waiting_for_the_review_is_marked_and_resumed() -> None:
    run_id = await waiting_run(suspend_key("r1"))
    outcome = await apply_timeout(str(run_id), "r1")
    assert "timed out" in outcome
    state = await state_of(run_id)
    assert (state.type.value, state.name) == ("SCHEDULED", "Resuming")
    mark = await aread_flow_run_input(key=timed_out_key("r1"), flow_run_id=run_id)
    answer = await aread_flow_run_input(
        key=keyset_from_base_key(suspend_key("r1"))["response"], flow_run_id=run_id
    )
    assert answer["label"] == "calm"  # the form's own defaults: valid for its schema
    assert answer["note"] == timeout_note(mark)  # the answer carries the mark
    assert await was_timed_out("r1", answer, flow_run_id=run_id)


async def test_a_persons_answer_is_never_read_as_the_timeout() -> None:
    """A mark left behind (the timeout lost a race, or could not take it back) does not
    turn a person's answer into a timeout."""
    from prefect.input import acreate_flow_run_input

    run_id = await waiting_run(suspend_key("r1"))
    await acreate_flow_run_input(key=timed_out_key("r1"), value="stale", flow_run_id=run_id)
    person = {"decision": "reject", "note": "wrong label", "label": "calm"}
    assert not await was_timed_out("r1", person, flow_run_id=run_id)
    assert not await was_timed_out("r1", {"note": timeout_note("other")}, flow_run_id=run_id)


async def test_a_review_is_not_timed_out_before_its_deadline() -> None:
    """Anyone who may start the timeout deployment could otherwise decide a review early."""
    run_id = await waiting_run(suspend_key("r1"), timeout_s=MARGIN_S + 3600)
    assert "not due before" in await apply_timeout(str(run_id), "r1")
    assert (await state_of(run_id)).is_paused()
    assert await aread_flow_run_input(key=timed_out_key("r1"), flow_run_id=run_id) is None


@pytest.mark.parametrize(
    ("pause_key", "final", "says"),
    [
        (suspend_key("other"), False, "waits for another review"),
        (suspend_key("r1"), True, "no longer waits"),
    ],
)
async def test_a_run_not_waiting_for_this_review_is_left_alone(
    pause_key: str, final: bool, says: str
) -> None:
    run_id = await waiting_run(pause_key)
    if final:  # answered meanwhile: the run went on and finished
        async with get_client() as client:
            await client.set_flow_run_state(run_id, Completed(), force=True)
    before = await state_of(run_id)
    assert says in await apply_timeout(str(run_id), "r1")
    assert (await state_of(run_id)).type == before.type
    assert await aread_flow_run_input(key=timed_out_key("r1"), flow_run_id=run_id) is None


async def test_a_refused_resume_takes_the_mark_back() -> None:
    """No schema stored: the server refuses the resume; the run must not later read a
    timeout that never happened."""
    run_id = await waiting_run(suspend_key("r1"), with_form=False)
    outcome = await apply_timeout(str(run_id), "r1")
    assert "could not be resumed" in outcome
    assert (await state_of(run_id)).is_paused()
    assert await aread_flow_run_input(key=timed_out_key("r1"), flow_run_id=run_id) is None


async def test_without_the_deployment_nothing_is_scheduled() -> None:
    run_id = await waiting_run(suspend_key("r1"))
    assert await schedule_timeout(str(run_id), "r1", after_s=60) is None


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"properties": {"a": {"default": 1}, "b": {"type": "string"}}}, {"a": 1}),
        ({"properties": {"a": {"default": None}, "b": {"default": ""}}}, {"b": ""}),
        ({}, {}),
    ],
)
def test_form_defaults_are_the_forms_own_values(
    schema: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert form_defaults(schema) == expected


async def test_a_timeout_run_started_a_little_early_waits_for_the_deadline() -> None:
    """Workers start scheduled runs a little ahead of their time (prefetch)."""
    run_id = await waiting_run(suspend_key("r1"), timeout_s=MARGIN_S + 2)
    assert "timed out" in await apply_timeout(str(run_id), "r1")
    assert (await state_of(run_id)).name == "Resuming"
