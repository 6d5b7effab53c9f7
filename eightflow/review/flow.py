"""Review inside a run: pause a single run for a typed form, or defer in a batch.

A single run whose output needs review pauses with Prefect's ``pause_flow_run`` and a
:class:`RunInput` form built from the rule: the decision (approve / edit / reject), a note,
the reviewer's name, and the rule's editable fields typed from the output's schema and
filled with what the model produced. The form's description shows that output and why
review was asked. Submitting the form in the UI (or ``eightflow review decide``, which
resumes the run with the same input) continues the run with the decision; when nobody
answers within the rule's timeout, its ``on_timeout`` policy decides.

A run of a deployment waits paused only for ``EIGHTFLOW_REVIEW_GRACE_S``; then it
suspends (``suspend_flow_run``): its process ends and its worker is free. Before it does,
it keeps its result on the server (:mod:`eightflow.review.held`) and schedules the run
that enforces its deadline (:mod:`eightflow.review.timeouts`). The form's submission (or
the deadline) schedules the run again; it starts from the top, takes its kept result
instead of running its steps again, asks the same review (same id, found in the ledger)
and the suspension hands over the stored answer.

At the timeout the rule's ``on_timeout`` decides: ``reject`` (the default) does not
accept the output and the run ends ``needs_review``, its review still pending for a
person (the shell or, later, any form); ``approve`` accepts it; ``fail`` fails the run.

A batch never pauses: its documents that need review end ``needs_review``, each with a
pending review row in the ledger, decided in the batch's review queue
(:mod:`eightflow.review.queue`) or with ``eightflow review decide``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from eightflow.definition import WorkflowDefinition
from eightflow.definition.review import ReviewEditError, ReviewRule
from eightflow.review.decide import apublish_decision, final_value
from eightflow.review.render import request_markdown
from eightflow.review.requests import ReviewRequest, review_requests
from eightflow.review.store import get_review, record_decision, save_pending
from eightflow.runtime.records import WorkflowResult
from eightflow.safety.sanitize import sanitize_text
from eightflow.settings import get_settings
from eightflow.store.ledger import default_ledger


def review_form(rule: ReviewRule, request: ReviewRequest) -> Any:
    """The RunInput form for one review, pre-filled with the model's output.

    Choices are choices (the decision, and a field typed by a ``Literal`` such as a
    sentiment label); no field is ``X | None`` (Prefect's UI would show a ``str``/``None``
    toggle); the decision and the editable fields are required (filled in with what the
    model produced), so only the note and the reviewer's name say "(Optional)".
    """
    from prefect.input import RunInput

    from eightflow.safety.form_types import form_type

    decision_type: Any = Literal[tuple(rule.actions)]
    fields: dict[str, Any] = {
        "decision": (
            decision_type,
            Field(default="approve", description="approve, edit (change fields) or reject"),
        ),
        "note": (str, Field(default="", description="Why you decided so; say why you reject.")),
        "reviewer": (
            str,
            Field(default="", description="Your name: the report and the CLI show who decided."),
        ),
    }
    schema = rule.output_schema
    proposed = request.proposed if isinstance(request.proposed, dict) else {}
    for name in rule.editable:
        assert schema is not None  # the rule's validator guarantees it
        info = schema.model_fields[name]
        annotation, empty = form_type(info.annotation)
        fields[name] = (annotation, Field(default=empty, description=info.description))
    required = ["decision", *rule.editable]
    base: type[RunInput] = type(
        "ReviewForm", (RunInput,), {"model_config": {"json_schema_extra": _requiring(required)}}
    )
    form: Any = create_model(f"Review_{rule.name}", __base__=base, **fields)
    defaults = {name: proposed.get(name) for name in rule.editable if name in proposed}
    return form.with_initial_data(description=request_markdown(_row(request)), **defaults)


def _requiring(names: list[str]) -> Callable[[dict[str, Any]], None]:
    """Mark ``names`` required in a form's JSON schema (their defaults stay: what the model
    produced is filled in)."""

    def extra(schema: dict[str, Any]) -> None:
        schema["required"] = [n for n in names if n in schema.get("properties", {})]

    return extra


def decision_from_form(
    answer: BaseModel, rule: ReviewRule, request: ReviewRequest
) -> tuple[str, dict[str, Any]]:
    """(decision, edits) from a submitted form: changed fields make it an edit."""
    from eightflow.safety.form_types import form_type

    data = answer.model_dump()
    proposed = request.proposed if isinstance(request.proposed, dict) else {}
    schema = rule.output_schema
    edits = {}
    for name in rule.editable:
        value, before = data.get(name), proposed.get(name)
        if schema is not None and before is None:  # the form shows "none" as an empty value
            empty = form_type(schema.model_fields[name].annotation)[1]
            value = None if value == empty and empty is not None else value
        if value is not None and value != before:
            edits[name] = value
    decision = str(data.get("decision") or "approve")
    if decision == "reject":
        return decision, {}
    if edits and "edit" in rule.actions:
        return "edit", edits
    return "approve", {}


async def review_single_run(
    definition: WorkflowDefinition,
    result: WorkflowResult,
    *,
    document_id: str | None = None,
    poll_interval: int | None = None,
    extra: Sequence[tuple[ReviewRule, ReviewRequest]] = (),
) -> WorkflowResult:
    """Ask for every review this run needs, pausing the flow run for each answer.

    ``extra``: reviews asked outside the definition's rules (an ungrounded answer), each
    with the rule it is decided under. A run started again after a suspension finds the
    reviews it asked before (same ids) and takes the decisions already made.
    """
    rules = {r.name: r for r in definition.review}
    asked = [(rules[r.rule], r) for r in review_requests(definition, result)] + list(extra)
    decided: dict[str, dict[str, Any]] = {}
    for _, request in asked:
        request.document_id = document_id
        before = _asked_before(request)
        if before is not None:
            request.review_id = before["review_id"]
            if before["status"] != "pending":
                decided[request.review_id] = before
                continue
        save_pending(request)
    snapshot = result.to_dict() if asked else {}  # kept on the server if the run suspends
    for rule, request in asked:
        if request.review_id in decided:
            row = decided[request.review_id]
            _apply(result, rule, request, str(row["decision"]), row.get("final"), row["note"])
            continue
        decision, edits, note, reviewer, via = await _ask(rule, request, poll_interval, snapshot)
        if via == "timeout" and decision == "reject":  # the output is not accepted
            result.status, result.error_type = "needs_review", "ReviewTimeout"
            result.error = (
                f"review {request.review_id} of {request.step}: nobody answered within "
                f"{rule.timeout_seconds} s; its output is not accepted until someone decides "
                f"(`eightflow review decide {request.review_id}`)"
            )
            continue
        if decision == "fail":
            await _store(request, "fail", {}, "no answer before the timeout", "", "timeout", None)
            _apply(result, rule, request, "fail", None, note)
            continue
        row = get_review(request.review_id)
        try:
            final = final_value(rule, row, decision, edits)
        except ReviewEditError as exc:  # a bad edit in the form: keep the model's output
            decision, note = "approve", f"{note} (edit refused: {exc})".strip()
            final = row["proposed"]
        await _store(request, decision, edits, note, reviewer, via, final)
        _apply(result, rule, request, decision, final, note)
    return result


def _apply(
    result: WorkflowResult,
    rule: ReviewRule,
    request: ReviewRequest,
    decision: str,
    final: Any,
    note: str,
) -> None:
    """What a decision does to the run: an edit replaces the output; a rejection or a
    failure ends the run so."""
    if decision == "edit" and rule.output_schema is not None and final is not None:
        result.outputs[rule.output] = rule.output_schema.model_validate(final)
    elif decision == "reject":
        result.status, result.error_type = "rejected", "ReviewRejected"
        result.error = sanitize_text(
            f"review {request.review_id} rejected {request.step}: {note}", limit=500
        )
    elif decision == "fail":
        result.status, result.error_type = "failed", "ReviewTimeout"
        result.error = f"review {request.review_id} of {request.step}: nobody answered"


async def _ask(
    rule: ReviewRule, request: ReviewRequest, poll_interval: int | None, snapshot: dict[str, Any]
) -> tuple[str, dict[str, Any], str, str, str]:
    """Wait for the form: paused for the grace period, then suspended when the run has a
    deployment (no process waits; the run starts again on submission and lands here,
    where the suspension hands over the answer). Without a deployment it stays paused
    until the rule's timeout."""
    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import asuspend_flow_run, pause_flow_run
    from prefect.logging import get_run_logger

    from eightflow.review import timeouts

    form = review_form(rule, request)
    settings = get_settings()
    key = timeouts.suspend_key(request.review_id)
    suspendable, fired = _suspendable()
    if suspendable and key in fired:  # the run after the form's submission (or the timeout)
        answer = await asuspend_flow_run(wait_for_input=form, key=key)
        if await timeouts.was_timed_out(request.review_id, answer.model_dump()):
            return _on_timeout(rule)
        await _quietly(timeouts.drop_timeout_run(request.review_id), "its timeout run")
        return _answer(answer, rule, request)
    get_run_logger().warning(
        "review %s needed (%s); decide in the UI (%s) or with `eightflow review decide %s`",
        request.review_id,
        request.reason,
        request.link or "Prefect UI",
        request.review_id,
    )
    grace = min(settings.review_grace_s, rule.timeout_seconds)
    try:
        answer = await pause_flow_run(
            wait_for_input=form,
            timeout=grace if suspendable else rule.timeout_seconds,
            poll_interval=poll_interval or settings.review_poll_s,
            key=f"review-{request.review_id}",
        )
    except FlowPauseTimeout:
        await _running_again()
        if suspendable and rule.timeout_seconds > grace:
            await _suspend(rule, request, form, rule.timeout_seconds - grace, snapshot)
        return _on_timeout(rule)
    return _answer(answer, rule, request)


async def _suspend(
    rule: ReviewRule, request: ReviewRequest, form: Any, left_s: float, snapshot: dict[str, Any]
) -> None:
    """Keep the run's result, schedule the deadline's enforcement, and suspend: this
    process ends here (``asuspend_flow_run`` raises)."""
    from prefect.flow_runs import asuspend_flow_run
    from prefect.logging import get_run_logger

    from eightflow.review import timeouts
    from eightflow.review.held import hold

    log = get_run_logger()
    await hold(WorkflowResult.model_validate(snapshot))
    enforced, why = None, f"no {timeouts.TIMEOUT_DEPLOYMENT} deployment here"
    if request.flow_run_id:
        try:
            enforced = await timeouts.schedule_timeout(
                request.flow_run_id, request.review_id, left_s
            )
        except Exception as exc:  # the API refused or is away: the review itself holds
            why = f"its deadline could not be scheduled ({sanitize_text(str(exc), limit=300)})"
    if enforced is None:
        log.warning(
            "review %s: %s; if nobody answers within %d s, Prefect fails this run and the "
            "review stays pending (`eightflow review decide`)",
            request.review_id,
            why,
            left_s,
        )
    log.info(
        "review %s: no answer within %d s; suspending (no process waits) until the form is "
        "submitted, at most %d s more; then: %s",
        request.review_id,
        rule.timeout_seconds - left_s,
        left_s,
        rule.on_timeout,
    )
    margin = timeouts.MARGIN_S if enforced else 0
    await asuspend_flow_run(
        wait_for_input=form,
        timeout=int(left_s + margin),
        key=timeouts.suspend_key(request.review_id),
    )


def _on_timeout(rule: ReviewRule) -> tuple[str, dict[str, Any], str, str, str]:
    return rule.on_timeout, {}, f"no answer within {rule.timeout_seconds} s", "", "timeout"


async def _quietly(work: Any, what: str) -> Any:
    """Bookkeeping around a wait must not end the run: log and go on."""
    from prefect.logging import get_run_logger

    try:
        return await work
    except Exception as exc:  # the API refused or is away: the review itself still holds
        get_run_logger().warning("review: %s failed: %s", what, sanitize_text(str(exc), limit=300))
        return None


def _answer(
    answer: BaseModel, rule: ReviewRule, request: ReviewRequest
) -> tuple[str, dict[str, Any], str, str, str]:
    decision, edits = decision_from_form(answer, rule, request)
    data = answer.model_dump()
    return decision, edits, str(data.get("note") or ""), str(data.get("reviewer") or ""), "ui"


def _suspendable() -> tuple[bool, set[str]]:
    """Whether this flow run may suspend (a deployment's run, not a subflow), and the
    pause keys it has already used."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    run = ctx.flow_run if ctx else None
    if run is None:
        return False, set()
    fired = set(run.empirical_policy.pause_keys or ())
    return bool(run.deployment_id and not run.parent_task_run_id), fired


def _asked_before(request: ReviewRequest) -> dict[str, Any] | None:
    """The review this flow run asked before for the same rule, step and output (pending,
    or decided while it waited): a run that starts again after a suspension takes its
    answer, not ask anew. One rule (grounding) may ask about several steps of a run: each
    is its own."""
    if not request.flow_run_id:
        return None
    rows = default_ledger().query(
        "SELECT review_id FROM reviews WHERE flow_run_id = ? AND rule = ? AND step = ? "
        "AND output = ? ORDER BY created",
        (request.flow_run_id, request.rule, request.step, request.output),
    )
    return get_review(str(rows[0]["review_id"])) if rows else None


async def _running_again() -> None:
    """After a pause timed out the run is still Paused on the server: carry on Running."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext
    from prefect.states import Running

    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        return
    async with get_client() as client:
        await client.set_flow_run_state(ctx.flow_run.id, Running(), force=True)


async def _store(
    request: ReviewRequest,
    decision: str,
    edits: dict[str, Any],
    note: str,
    reviewer: str,
    via: str,
    final: Any,
) -> None:
    decided = record_decision(
        request.review_id,
        decision=decision,
        reviewer=reviewer or os.environ.get("USER") or "unknown",
        edits=edits,
        note=note,
        final=final,
        via=via,
    )
    await apublish_decision(decided)


def _row(request: ReviewRequest) -> dict[str, Any]:
    return request.model_dump(mode="json")
