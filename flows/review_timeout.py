"""``review-timeout``: a suspended review's deadline, enforced with no process waiting.

A deployment's run that suspends for review schedules one run of this flow (deployment
``review-timeout/deadline``) at its review's deadline; see ``eightflow.review.timeouts``.
If the run still waits for that review, this marks it timed out and resumes it; the run
then applies its rule's ``on_timeout`` policy itself. When someone answered first, the
waiting run deletes this scheduled run, or this run finds nothing to do.
"""

from __future__ import annotations

from prefect.logging import get_run_logger

from eightflow.compiler.flows import flow
from eightflow.review.timeouts import apply_timeout

__all__ = ["review_timeout"]


@flow(name="review-timeout", log_prints=True)
async def review_timeout(flow_run_id: str, review_id: str) -> str:
    """Resume the run waiting for this review, marked timed out, if it still waits.

    Args:
        flow_run_id: the suspended flow run.
        review_id: the review it waits for.
    """
    outcome = await apply_timeout(flow_run_id, review_id)
    get_run_logger().info(outcome)
    return outcome
