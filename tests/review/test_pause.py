"""A single run that needs review pauses for a typed form and resumes with the decision.

Driven through Prefect's API, as the UI does: the paused run's form schema and description
are read back, the run is resumed with ``run_input`` (directly, or through
``eightflow review decide``), and the timeout policy is exercised with a short timeout.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eightflow_app.flows.document_analysis import document_analysis
from eightflow_app.tasks.analysis.schemas import Sentiment

from eightflow import ReviewRule, Step, StepResult, Workflow, WorkflowDefinition
from eightflow.registry import load_workflow
from eightflow.review.decide import decide
from eightflow.store.ledger import default_ledger

pytestmark = pytest.mark.prefect

FLAGGED = Path(__file__).resolve().parents[2] / "examples/documents/kestrel-remote-work-faq.md"


def embedded_sentiment(path: Path) -> dict[str, Any]:
    """What the embedded model says of a document (the tests follow it, not a copy)."""
    from eightflow_app.tasks.loading import load_document

    from eightflow.embedded.engine import EmbeddedModel

    return EmbeddedModel().respond("sentiment", load_document(path).text)


def other_label(label: str) -> str:
    return "negative" if label != "negative" else "positive"


PROPOSED = embedded_sentiment(FLAGGED)["label"]  # its confidence is below 0.6
EDITED = other_label(PROPOSED)


@pytest.fixture(autouse=True)
def fast_poll(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EIGHTFLOW_REVIEW_POLL_S", "1")


async def wait_paused(timeout: float = 90) -> tuple[dict[str, Any], Any]:
    """The pending review row and the paused flow run, once the run has paused."""
    from prefect.client.orchestration import get_client

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with get_client() as client:
        while loop.time() < deadline:
            rows = default_ledger().query("SELECT * FROM reviews WHERE status = 'pending'")
            if rows and rows[0]["flow_run_id"]:
                run = await client.read_flow_run(UUID(rows[0]["flow_run_id"]))
                if run.state is not None and run.state.is_paused():
                    return rows[0], run
            await asyncio.sleep(0.5)
    raise AssertionError("the run never paused for review")


async def form_of(run: Any) -> tuple[dict[str, Any], str]:
    from prefect.client.orchestration import get_client
    from prefect.input.run_input import keyset_from_paused_state

    keys = keyset_from_paused_state(run.state)
    async with get_client() as client:
        schema = json.loads(await client.read_flow_run_input(run.id, keys["schema"]))
        description = json.loads(await client.read_flow_run_input(run.id, keys["description"]))
    return schema, description


@pytest.mark.parametrize("via", ["api", "cli"])
async def test_single_run_pauses_and_resumes_with_an_edit(via: str) -> None:
    from prefect.flow_runs import resume_flow_run

    flow_call: Any = document_analysis(path=str(FLAGGED), review_below=0.6, return_state=True)
    running = asyncio.create_task(flow_call)
    row, run = await wait_paused()
    schema, description = await form_of(run)
    # The form is typed from the output's schema and says what the model said and why.
    props = schema["properties"]
    assert set(props) >= {"decision", "note", "reviewer", "label", "score"}
    assert "confidence" in description and f'"label": "{PROPOSED}"' in description
    assert row["step"] == "sentiment" and json.loads(row["reasons"])
    edit = {"decision": "edit", "label": EDITED, "score": 0.0, "note": "a FAQ"}
    if via == "api":
        await resume_flow_run(run.id, run_input={**edit, "reviewer": "ana"})  # type: ignore[misc]
    else:
        answer = await asyncio.to_thread(
            decide,
            row["review_id"],
            "edit",
            edits={"label": EDITED, "score": "0"},
            note="a FAQ",
            reviewer="ana",
            loader=load_workflow,
        )
        assert answer["resumed"] == str(run.id)
    state = await asyncio.wait_for(running, timeout=120)
    assert state.is_completed(), state.message
    [decided] = default_ledger().query("SELECT * FROM reviews")
    assert (decided["status"], decided["reviewer"], decided["decided_via"]) == (
        "edited",
        "ana",
        "ui",
    )
    assert json.loads(decided["final"])["label"] == EDITED
    [ledger_run] = default_ledger().query("SELECT * FROM runs")
    assert ledger_run["status"] == "completed"
    [artifact] = await decision_artifacts(run.id)
    assert "edited" in str(artifact.data) and "ana" in str(artifact.data)


async def decision_artifacts(flow_run_id: Any) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    async with get_client() as client:
        return list(
            await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["review-decisions"]),
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
                )
            )
        )


class Always(Workflow):
    policy = "approve"

    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(
            name="always_reviewed",
            steps=[Step(name="rate", handler=self.rate)],
            review=[
                ReviewRule(
                    name="every_time",
                    step="rate",
                    output="sentiment",
                    always=True,
                    output_schema=Sentiment,
                    editable=("label",),
                    timeout_seconds=1,  # the shortest a rule allows: nobody answers anyway
                    on_timeout=self.policy,  # type: ignore[arg-type]
                )
            ],
        )

    async def rate(self, context: Any) -> StepResult:
        return StepResult(sentiment=Sentiment(label="positive", score=0.4, confidence=0.9))


@pytest.mark.parametrize(
    ("policy", "run_status", "review_status", "via"),
    [
        ("approve", "completed", "timed_out_approved", "timeout"),
        # not accepted, and still a person's to decide: the run waits on people
        ("reject", "needs_review", "pending", None),
        ("fail", "failed", "timed_out_failed", "timeout"),
    ],
)
async def test_timeout_policy_decides_when_nobody_answers(
    policy: str, run_status: str, review_status: str, via: str | None
) -> None:
    class Timed(Always):
        pass

    Timed.policy = policy
    result = await Timed().execute(raise_on_failure=False)
    assert result.status == run_status
    [row] = default_ledger().query("SELECT * FROM reviews")
    assert (row["status"], row["decided_via"]) == (review_status, via)


async def test_a_run_left_needing_review_is_settled_by_a_later_decision() -> None:
    """The default timeout policy: the run ends needs_review (its flow run Completed,
    named NeedsReview), and a person's decision later settles it in the ledger."""
    from prefect.client.orchestration import get_client

    class Timed(Always):
        policy = "reject"

    result = await Timed().execute(raise_on_failure=False)
    assert result.status == "needs_review" and result.error_type == "ReviewTimeout"
    assert "nobody answered within 1 s" in (result.error or "")
    async with get_client() as client:
        run = await client.read_flow_run(UUID(str(result.flow_run_id)))
    assert run.state is not None and (run.state.type.value, run.state.name) == (
        "COMPLETED",
        "NeedsReview",
    )
    [row] = default_ledger().query("SELECT review_id FROM reviews WHERE status = 'pending'")
    decide(row["review_id"], "approve", reviewer="ana", workflow=Timed())
    [ran] = default_ledger().query("SELECT status FROM runs WHERE run_id = ?", (result.run_id,))
    assert ran["status"] == "completed"
