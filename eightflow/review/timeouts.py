"""A suspended review's timeout, enforced with no process waiting.

A deployment's run that suspends for review holds no process: nothing is left to notice
that nobody answered. Prefect's own pause timeout only fails the run when something later
tries to resume it, and the review would stay pending with the run marked Failed. So when
a run suspends, it schedules one run of the ``review-timeout/deadline`` deployment at the
rule's deadline (visible in the UI as a Scheduled run named after the review). At the
deadline that run checks that the flow run still waits for *this* review, marks the review
timed out (a flow run input of the waiting run, ``review-<id>-timed-out``) and resumes it
with the form's own defaults. The waiting run starts again, sees the mark, and applies the
rule's ``on_timeout`` policy through the same code as a run that was never suspended
(default ``reject``: the output is not accepted and the run ends ``needs_review``).

Prefect's pause timeout is set :data:`MARGIN_S` past the deadline, so a late worker still
finds the run resumable. When a person answers first, the waiting run deletes its
scheduled timeout run. Without the deployment (a stack without it), Prefect's timeout is
the deadline itself and the run says so in its log.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

TIMEOUT_DEPLOYMENT = "review-timeout/deadline"
#: How long past the deadline Prefect keeps the suspended run resumable.
MARGIN_S = 86_400


def timed_out_key(review_id: str) -> str:
    return f"review-{review_id}-timed-out"


def timeout_run_key(review_id: str) -> str:
    return f"review-{review_id}-timeout-run"


def suspend_key(review_id: str) -> str:
    """The pause key of a run suspended for this review (see ``eightflow.review.flow``)."""
    return f"review-{review_id}-suspended"


async def schedule_timeout(flow_run_id: str, review_id: str, after_s: float) -> str | None:
    """Schedule the run that enforces this review's deadline ``after_s`` from now; its
    id, or None when the deployment is not there."""
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.input import acreate_flow_run_input

    try:
        run = await run_deployment(  # type: ignore[misc]
            TIMEOUT_DEPLOYMENT,
            parameters={"flow_run_id": flow_run_id, "review_id": review_id},
            scheduled_time=datetime.now(UTC) + timedelta(seconds=after_s),
            flow_run_name=f"timeout of review {review_id}",
            timeout=0,
            as_subflow=False,
            tags=["eightflow", "review"],
        )
    except ObjectNotFound:
        return None
    # Kept only so that a person's answer can delete the timeout run; without it, the
    # run finds the review answered at the deadline and stops.
    with contextlib.suppress(Exception):
        await acreate_flow_run_input(
            key=timeout_run_key(review_id), value=str(run.id), flow_run_id=UUID(flow_run_id)
        )
    return str(run.id)


async def apply_timeout(flow_run_id: str, review_id: str) -> str:
    """At the deadline: mark the review timed out and resume the run waiting for it.

    Returns what happened, for the timeout run's log. Nothing happens when the run no
    longer waits for this review (answered, cancelled, or waiting for another one), or
    before its deadline (a person who may start runs cannot time a review out early).
    The mark is a nonce that the resume's own answer carries: a person's answer that won
    a race never reads as the timeout's, even if the mark could not be taken back.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.responses import SetStateStatus
    from prefect.input import acreate_flow_run_input, adelete_flow_run_input

    target = UUID(flow_run_id)
    async with get_client() as client:
        run = await client.read_flow_run(target)
        state = run.state
        if state is None or not state.is_paused():
            name = state.name if state else "no state"
            return f"run {flow_run_id} no longer waits ({name}): nothing to do"
        details = state.state_details
        if details.pause_key != suspend_key(review_id):
            return f"run {flow_run_id} waits for another review: nothing to do"
        early = _early_by(details.pause_timeout)
        if early > EARLY_WAIT_S:
            due = datetime.now(UTC) + timedelta(seconds=early)
            return (
                f"review {review_id} is not due before {due:%Y-%m-%d %H:%M:%S} UTC: nothing to do"
            )
        if early > 0:  # a worker may start a scheduled run a little ahead of its time
            await asyncio.sleep(early)
            return await apply_timeout(flow_run_id, review_id)
        keyset = details.run_input_keyset or {}
        schema = await _schema(client, target, keyset.get("schema"))
        mark = uuid4().hex
        answer = {**form_defaults(schema), "note": timeout_note(mark)}
        await acreate_flow_run_input(key=timed_out_key(review_id), value=mark, flow_run_id=target)
        try:
            response = await client.resume_flow_run(target, run_input=answer)
        except BaseException:
            await adelete_flow_run_input(key=timed_out_key(review_id), flow_run_id=target)
            raise
    if response.status != SetStateStatus.ACCEPT:
        await adelete_flow_run_input(key=timed_out_key(review_id), flow_run_id=target)
        reason = getattr(response.details, "reason", None) or response.status.value
        return f"run {flow_run_id} could not be resumed: {reason}"
    return f"review {review_id} timed out: run {flow_run_id} resumed to apply its policy"


#: A timeout run started this much ahead of its deadline waits for it (workers prefetch
#: scheduled runs); further ahead, it was started by hand and does nothing.
EARLY_WAIT_S = 300


def _early_by(expires: datetime | None) -> float:
    """Seconds until the review's deadline (its pause expiry less the margin); 0 when due."""
    if expires is None:
        return 0.0
    return max(0.0, (expires - timedelta(seconds=MARGIN_S) - datetime.now(UTC)).total_seconds())


def timeout_note(mark: str) -> str:
    """The note of the answer a timeout resumes a run with."""
    return f"no answer before the deadline (eightflow timeout {mark})"


async def _schema(client: Any, flow_run_id: UUID, key: str | None) -> dict[str, Any]:
    import json

    if not key:
        return {}
    try:
        return dict(json.loads(await client.read_flow_run_input(flow_run_id, key)))
    except Exception:  # no schema stored: resume with no input
        return {}


def form_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """A form's answer made of its own defaults (the model's proposed values): valid for
    its schema by construction; the waiting run ignores it once it sees the timeout."""
    values = {
        name: spec["default"]
        for name, spec in (schema.get("properties") or {}).items()
        if isinstance(spec, dict) and spec.get("default") is not None
    }
    return values


async def was_timed_out(
    review_id: str, answer: dict[str, Any], flow_run_id: UUID | None = None
) -> bool:
    """Whether the flow run (default: the current one) was resumed by its review's
    timeout: the answer it got carries the timeout's mark."""
    from prefect.input import aread_flow_run_input

    mark = await aread_flow_run_input(key=timed_out_key(review_id), flow_run_id=flow_run_id)
    return bool(mark) and answer.get("note") == timeout_note(str(mark))


async def drop_timeout_run(review_id: str) -> None:
    """A person answered: delete the scheduled timeout run, if it has not started."""
    from prefect.client.orchestration import get_client
    from prefect.input import aread_flow_run_input

    run_id = await aread_flow_run_input(key=timeout_run_key(review_id))
    if not run_id:
        return
    async with get_client() as client:
        run = await client.read_flow_run(UUID(str(run_id)))
        if run.state is not None and run.state.is_scheduled():
            await client.delete_flow_run(run.id)
