"""``on_budget=ask``: the typed form a person answers, and where the flow run waits for it.

- A run of a deployment is *suspended* (``suspend_flow_run``: no process is held). On resume
  Prefect runs the flow again from the start; :func:`answers_before_resume` reads the
  answers already given (their pause keys carry the spend at each question) so the batch
  applies them before any document starts.
- A flow run without a deployment pauses in place (``pause_flow_run``, up to 24 h).
- With no flow run (offline) or only a temporary in-process Prefect server, nobody could
  answer: the batch stops, and says why.

Also the Prefect side of a switch: its event and the flow run's log.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Literal

from pydantic import Field

log = logging.getLogger(__name__)

Choice = Literal["stop", "raise-cap", "cheaper", "batch-api"]
SWITCH_EVENT = "eightflow.batch.budget-switch"
# Pause keys: on-budget-ask-<n>-<spend at the question, in nano-USD> (Prefect allows
# lowercase letters, digits and dashes only).
ASK_KEY = "on-budget-ask"


@functools.cache
def decision_form() -> Any:
    """The ``RunInput`` form of ``ask`` (built on first use: Prefect is imported then)."""
    from prefect.input import RunInput

    class BudgetDecision(RunInput):
        """What the batch does now that its spend nears the cap."""

        choice: Choice = Field(
            default="stop",
            description="stop: the remaining documents stay unprocessed; raise-cap: go on "
            "with the cap raised by raise_cap_by_usd; cheaper: a cheaper model; batch-api: "
            "the provider's Batch API.",
        )
        raise_cap_by_usd: float = Field(
            default=0.0,
            ge=0,
            allow_inf_nan=False,
            description="With raise-cap: USD added to the cap.",
        )

    return BudgetDecision


def form_text(
    workflow: str, spent: float, cap: float, projected: float, done: str, lane: str, why: str
) -> str:
    """The form's description: spend so far, the projected total, why it asks now."""
    from eightflow.safety.inert import md_cell, md_code

    return "\n".join(
        [
            f"## Batch {md_code(workflow)}: its spend nears the cap",
            "",
            f"- spent so far: **${spent:.6f}** of the ${cap:g} cap",
            f"- projected total at this rate: **${projected:.6f}**",
            f"- documents done: {done}",
            f"- model: {md_cell(lane)}",
            f"- why now: {md_cell(why)}",
            "",
            "Choose stop, raise-cap (with an amount), cheaper or batch-api.",
        ]
    )


async def ask_person(description: str, number: int, spent: float) -> tuple[str, float, str]:
    """(choice, amount to raise the cap by, what happened) for question ``number``."""
    ctx = flow_run_context()
    if ctx is None:
        return "stop", 0.0, "no Prefect flow run to ask in (offline): stopped"
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:  # a temporary in-process server: nobody sees it
        return "stop", 0.0, "no Prefect API a person could answer on (temporary server): stopped"
    form = decision_form().with_initial_data(description=description)
    key = f"{ASK_KEY}-{number}-{round(spent * 1e9)}"
    run_logger().warning(
        "on_budget ask: answer the form of flow run %s (Prefect UI, or "
        "prefect.flow_runs.resume_flow_run with run_input)",
        ctx.flow_run.id,
    )
    try:
        if ctx.flow_run.deployment_id is not None:  # suspended: no process held
            from prefect.flow_runs import suspend_flow_run

            answer = await suspend_flow_run(wait_for_input=form, key=key)
        else:
            from prefect.flow_runs import pause_flow_run

            answer = await pause_flow_run(
                wait_for_input=form, key=key, timeout=24 * 3600, poll_interval=2
            )
    except Exception as exc:  # a timeout or a refused pause: stop, and say why
        # The text of an API error can carry a URL with its credentials or a header: it
        # reaches the log, the switch event and report.md only sanitized.
        from eightflow.safety.sanitize import sanitize_text

        said = sanitize_text(f"{type(exc).__name__}: {exc}", limit=300)
        return "stop", 0.0, f"no answer ({said}): stopped"
    return answer.choice, float(answer.raise_cap_by_usd), f"a person chose {answer.choice}"


async def answers_before_resume() -> list[tuple[int, float, Any]]:
    """In a resumed deployment run: (question number, spend then, answer), in order.

    An answer the API cannot give back (the server down, a refused request) is logged and
    read as no answer (None), and so is every later one: the batch still counts the spend
    at that question, and asks again when its spend reaches the switch point.
    """
    ctx = flow_run_context()
    if ctx is None or ctx.flow_run.deployment_id is None:
        return []
    keys = sorted(
        (int(parts[0]), int(parts[1]) / 1e9, key)
        for key in ctx.flow_run.empirical_policy.pause_keys or ()
        if key.startswith(ASK_KEY + "-")
        and len(parts := key[len(ASK_KEY) + 1 :].split("-")) == 2
        and all(part.isdigit() for part in parts)
    )
    if not keys:
        return []
    from prefect.flow_runs import suspend_flow_run

    answers: list[tuple[int, float, Any]] = []
    unreadable = False
    for number, spent, key in keys:
        answer = None
        try:  # the key has fired: the server refuses the suspension, the answer comes back
            if not unreadable:
                answer = await suspend_flow_run(wait_for_input=decision_form(), key=key)
        except Exception as exc:  # an API error must not end the run
            from eightflow.safety.sanitize import sanitize_text

            unreadable = True
            said = sanitize_text(f"{type(exc).__name__}: {exc}", limit=300)
            run_logger().warning(
                "on_budget ask: the answer to question %d could not be read (%s); going on "
                "as if it was not given: asked again at the switch point",
                number,
                said,
            )
        answers.append((number, spent, answer))  # the spend counts, answered or not
    return answers


def run_logger() -> Any:
    """The flow run's logger (its lines reach the UI) inside a flow run; else this module's."""
    if flow_run_context() is not None:
        from prefect.logging import get_run_logger

        return get_run_logger()
    return log


def flow_run_context() -> Any:
    try:
        from prefect.context import FlowRunContext
    except Exception:  # pragma: no cover - Prefect is a dependency
        return None
    ctx = FlowRunContext.get()
    return ctx if ctx is not None and ctx.flow_run is not None else None


def emit_switch_event(entry: dict[str, Any], batch_id: str | None, workflow: str) -> Any:
    """The switch as a Prefect event (related to the flow run); none outside a flow run."""
    if flow_run_context() is None:
        return None
    try:
        from prefect.events import emit_event

        return emit_event(
            event=SWITCH_EVENT,
            resource={
                "prefect.resource.id": f"eightflow.batch.{batch_id or 'local'}",
                "prefect.resource.name": workflow,
            },
            payload=entry,
        )
    except Exception as exc:  # an unreachable API must not end the batch
        from eightflow.safety.sanitize import sanitize_text

        log.warning("could not emit %s: %s", SWITCH_EVENT, sanitize_text(str(exc), limit=300))
        return None
