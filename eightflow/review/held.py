"""What a run that suspends for review keeps, so it does nothing twice.

A suspended run's process ends; the form's submission starts the flow run again from
the top. Run again, its steps would call a hosted model again (paid twice) and the first
attempt's calls would be missing from the ledger, since the sinks had not run yet. So
before it suspends, the run stores its result (run id, outputs, steps and every model
call with its cost) as a flow run input of its own flow run, on the Prefect server, where
any worker that picks it up finds it. Started again, the pipeline takes that result
instead of driving the steps, and the review carries on under the same run id.

What is stored is :meth:`WorkflowResult.to_dict`: sanitized like every artifact (no
secret a document carried), and without the model's raw response texts.
"""

from __future__ import annotations

from eightflow.runtime.records import WorkflowResult

HELD_KEY = "eightflow-held-result"


def resumed_after_suspension() -> bool:
    """Whether the current flow run has suspended before (it has used a pause key that
    ends in ``-suspended``): only then can a held result exist."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    run = ctx.flow_run if ctx else None
    if run is None:
        return False
    keys = run.empirical_policy.pause_keys or set()
    return any(key.endswith("-suspended") for key in keys)


async def hold(result: WorkflowResult) -> None:
    """Store the run's result before it suspends (once: a second suspension keeps it)."""
    from prefect.input import acreate_flow_run_input, aread_flow_run_input

    if await aread_flow_run_input(key=HELD_KEY) is None:
        await acreate_flow_run_input(key=HELD_KEY, value=result.to_dict())


async def held_result() -> WorkflowResult | None:
    """The result this flow run stored before it suspended; None if it has none."""
    if not resumed_after_suspension():
        return None
    from prefect.input import aread_flow_run_input

    data = await aread_flow_run_input(key=HELD_KEY)
    return None if data is None else WorkflowResult.model_validate(data)
