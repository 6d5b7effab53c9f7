"""The batch review queue's form and decisions: typed items, paging, one door for decisions.

The form and its answers are checked on their own (no API); a real batch (marked
``prefect``) is then decided through the queue, beside the shell, and read back from
results.csv, results.parquet and the ledger. The suspended run itself, on a real stack
with a worker and a browser, is ``tests/review/test_queue_e2e.py``.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents
from eightflow_app.flows.document_analysis import SENTIMENT_REVIEW

from eightflow.registry import load_workflow
from eightflow.review.queue import (
    LATER,
    QueueDecision,
    apply_decisions,
    decisions_from_form,
    queue_form,
    rules_for,
    start_review_queue,
)
from eightflow.review.queue_runs import pending_page, queue_rows
from eightflow.review.requests import ReviewRequest
from eightflow.review.store import count_reviews, get_review, list_reviews, save_pending
from eightflow.store.ledger import default_ledger

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "documents"
# Below 0.6 with the embedded model: the three flagged ones; the fourth is sure.
FLAGGED = ["kestrel-remote-work-faq.md", "port-averill-tram-vote.html"]
FLAGGED += ["queensway-library-kickoff.docx"]
SURE = "riverbend-board-minutes.md"
RULES: dict[str, Any] = {SENTIMENT_REVIEW.name: SENTIMENT_REVIEW}


def test_the_three_flagged_documents_are_the_unsure_ones() -> None:
    """The batch tests below follow the embedded model: these three fall below 0.6."""
    from eightflow_app.tasks.loading import load_document

    from eightflow.embedded.engine import EmbeddedModel

    model = EmbeddedModel()
    unsure = {
        name: model.respond("sentiment", load_document(EXAMPLES / name).text)["confidence"] < 0.6
        for name in [*FLAGGED, SURE]
    }
    assert unsure == {name: name != SURE for name in [*FLAGGED, SURE]}


def pending(home: Path, n: int, batch_id: str = "batch-1") -> list[dict[str, Any]]:
    """``n`` pending sentiment reviews of one batch, as a batch stores them."""
    ids = []
    for i in range(n):
        request = ReviewRequest(
            run_id=f"run-{i}", workflow="document_analysis", document_id=f"doc-{i}.md",
            step="sentiment", rule=SENTIMENT_REVIEW.name, output="sentiment",
            proposed={"label": "neutral", "score": 0.05, "confidence": 0.5},
            reasons=[f"sentiment.confidence 0.5{i} < 0.6"], actions=["approve", "edit", "reject"],
            editable=["label", "score"], batch_id=batch_id,
            link=f"http://127.0.0.1:4200/v2/runs/task-run/t{i}",
        )  # fmt: skip
        save_pending(request)
        ids.append(request.review_id)
    return queue_rows(ids)


def test_the_form_lists_each_item_with_its_typed_fields(home: Path) -> None:
    rows = pending(home, 2)
    form = queue_form(rows, RULES)
    schema = form.model_json_schema()
    props = schema["properties"]
    assert list(props) == [
        "item_1_decision", "item_1_label", "item_1_score", "item_1_note",
        "item_2_decision", "item_2_label", "item_2_score", "item_2_note", "reviewer",
    ]  # fmt: skip
    decision = json.dumps(props["item_1_decision"])
    assert all(f'"{c}"' in decision for c in (LATER, "approve", "edit", "reject"))
    assert props["item_1_decision"]["default"] == LATER
    assert "doc-0.md" in props["item_1_decision"]["title"]
    label = json.dumps(props["item_2_label"])  # a choice of the schema's labels, filled in
    assert all(f'"{c}"' in label for c in ("positive", "negative", "neutral"))
    assert props["item_2_label"]["default"] == "neutral"
    assert props["item_2_score"]["default"] == 0.05 and props["item_2_score"]["type"] == "number"
    described = form._description
    assert described.startswith("## 2 outputs wait for a person")
    for n, row in enumerate(rows, 1):
        assert row["document_id"] in described
        item = props[f"item_{n}_decision"]["description"]  # rendered as markdown by the UI
        assert f"[trace]({row['link']})" in item
        assert '`{"label": "neutral", "score": 0.05, "confidence": 0.5}`' in item
    assert "sentiment.confidence 0.51 &lt; 0.6" in described  # inert: no HTML


def test_an_item_without_its_rule_takes_no_edits(home: Path) -> None:
    [row] = pending(home, 1)
    props = queue_form([row], {}).model_json_schema()["properties"]
    assert list(props) == ["item_1_decision", "item_1_note", "reviewer"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({}, []),  # everything left for later
        ({"item_1_decision": "approve"}, [("approve", {})]),
        ({"item_1_decision": "reject", "item_1_label": "negative"}, [("reject", {})]),
        ({"item_1_decision": "approve", "item_1_label": "negative"},
         [("edit", {"label": "negative"})]),
        ({"item_1_decision": "edit", "item_1_score": -0.4}, [("edit", {"score": -0.4})]),
        ({"item_1_decision": "edit"}, [("approve", {})]),  # an edit that changed nothing
        ({"item_1_decision": LATER, "item_1_label": "negative"}, []),
    ],
)  # fmt: skip
def test_decisions_from_the_form(
    home: Path, answer: dict[str, Any], expected: list[tuple[str, dict[str, Any]]]
) -> None:
    rows = pending(home, 1)
    form = queue_form(rows, RULES)
    found = decisions_from_form(form(**answer), rows, RULES)
    assert [(d.decision, d.edits) for d in found] == expected
    assert all(d.review_id == rows[0]["review_id"] for d in found)


def test_a_bad_edit_is_refused_by_the_form(home: Path) -> None:
    from pydantic import ValidationError

    form = queue_form(pending(home, 1), RULES)
    with pytest.raises(ValidationError, match="item_1_label"):
        form(item_1_decision="edit", item_1_label="ecstatic")


@pytest.mark.parametrize(("size", "count"), [(1, 1), (2, 2), (10, 3)])
def test_long_queues_are_paged(home: Path, size: int, count: int) -> None:
    rows = pending(home, 3)
    pending(home, 2, batch_id="another-batch")
    page = pending_page("batch-1", size=size)
    assert [r["review_id"] for r in page] == [r["review_id"] for r in rows][:count]


@pytest.mark.parametrize(
    ("status", "batch_id", "limit", "listed", "counted"),
    [
        ("pending", "batch-1", None, 3, 3),
        ("pending", "another-batch", None, 2, 2),
        ("pending", None, None, 5, 5),  # every batch
        (None, "batch-1", None, 3, 3),  # every status
        ("pending", "batch-1", 2, 2, 3),  # a page; the count is the batch's
        ("approved", "batch-1", None, 0, 0),
        ("pending", "no-such-batch", None, 0, 0),
        ("pending", "batch-1' OR '1'='1", None, 0, 0),  # a value, never SQL
    ],
)
def test_reviews_are_picked_by_the_ledger(
    home: Path, status: str | None, batch_id: str | None, limit: int | None, listed: int,
    counted: int,
) -> None:  # fmt: skip
    pending(home, 3)
    pending(home, 2, batch_id="another-batch")
    rows = list_reviews(status, batch_id=batch_id, limit=limit)
    assert len(rows) == listed
    assert all(batch_id is None or row["batch_id"] == batch_id for row in rows)
    assert count_reviews(status, batch_id=batch_id) == counted


def test_the_page_size_is_a_setting(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pending(home, 4)
    monkeypatch.setenv("EIGHTFLOW_REVIEW_PAGE_SIZE", "3")
    assert len(pending_page("batch-1")) == 3


# --- a real batch decided through the queue (needs the Prefect API) ----------------------


async def run_batch(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    folder, out = tmp_path / "docs", tmp_path / "out"
    folder.mkdir()
    for name in [*FLAGGED, SURE]:
        shutil.copy(EXAMPLES / name, folder / name)
    params = BatchParams(folder=str(folder), out=str(out), review_below=0.6)
    state = await batch_documents(**params.flow_parameters(), return_state=True)
    brief = await state.result(raise_on_failure=False)
    assert isinstance(brief, dict), state.message
    return out, brief


def the_batch() -> str:
    [row] = default_ledger().query("SELECT DISTINCT batch_id FROM reviews")
    return str(row["batch_id"])


def results(out: Path) -> dict[str, dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


@pytest.mark.prefect
async def test_queue_decisions_land_where_the_shells_do(tmp_path: Path, home: Path) -> None:
    import pandas as pd

    out, brief = await run_batch(tmp_path)
    assert brief["needs_review"] == 3 and brief["review_queue_run"] is None  # no deployment
    batch_id = the_batch()
    rows = pending_page(batch_id)
    assert sorted(r["document_id"] for r in rows) == sorted(FLAGGED)
    rules = rules_for(rows, load_workflow)
    form = queue_form(rows, rules)
    by_doc = {r["document_id"]: n for n, r in enumerate(rows, 1)}
    approve, reject, edit = (by_doc[d] for d in FLAGGED)
    answer = form(**{
        f"item_{approve}_decision": "approve",
        f"item_{reject}_decision": "reject", f"item_{reject}_note": "not about feelings",
        f"item_{edit}_decision": "edit", f"item_{edit}_label": "negative",
        f"item_{edit}_score": -0.5, "reviewer": "ana",
    })  # fmt: skip
    decisions = decisions_from_form(answer, rows, rules)
    # Off the event loop, as in the queue's (synchronous) flow.
    outcomes = await asyncio.to_thread(apply_decisions, decisions, reviewer="ana",
                                       loader=load_workflow)  # fmt: skip
    assert sorted(o["status"] for o in outcomes) == ["approved", "edited", "rejected"]
    table = results(out)
    assert {d: table[d]["status"] for d in FLAGGED} == dict(
        zip(FLAGGED, ["completed", "rejected", "completed"], strict=True)
    )
    assert table[FLAGGED[2]]["sentiment_label"] == "negative"
    assert table[SURE]["status"] == "completed"
    parquet = pd.read_parquet(out / "results.parquet").set_index("id")
    assert parquet.loc[FLAGGED[1], "review_status"] == "rejected"
    assert parquet.loc[FLAGGED[2], "sentiment_label"] == "negative"
    decided = {r["document_id"]: get_review(r["review_id"]) for r in rows}
    assert {d: (r["reviewer"], r["decided_via"]) for d, r in decided.items()} == {
        d: ("ana", "ui") for d in FLAGGED
    }
    assert decided[FLAGGED[1]]["note"] == "not about feelings"
    assert pending_page(batch_id) == []
    # The same answer again decides nothing twice.
    again = await asyncio.to_thread(apply_decisions, decisions, reviewer="bob")
    assert {o["status"] for o in again} == {"decided elsewhere"}
    assert sorted(o["by"] for o in again) == [
        "approved by ana (ui)", "edited by ana (ui)", "rejected by ana (ui)"
    ]  # fmt: skip
    assert {get_review(r["review_id"])["reviewer"] for r in rows} == {"ana"}


@pytest.mark.prefect
async def test_a_shell_decision_wins_over_a_form_still_open(tmp_path: Path, home: Path) -> None:
    from eightflow.review.decide import decide

    out, _ = await run_batch(tmp_path)
    rows = pending_page(the_batch())
    first = rows[0]
    await asyncio.to_thread(
        lambda: decide(first["review_id"], "reject", note="from the shell", via="cli",
                       reviewer="bob", loader=load_workflow)
    )  # fmt: skip
    outcomes = await asyncio.to_thread(
        apply_decisions,
        [QueueDecision(review_id=r["review_id"], decision="approve") for r in rows],
        reviewer="ana",
        loader=load_workflow,
    )
    assert outcomes[0] == {"review_id": first["review_id"], "status": "decided elsewhere",
                           "by": "rejected by bob (cli)"}  # fmt: skip
    assert [o["status"] for o in outcomes[1:]] == ["approved", "approved"]
    assert results(out)[first["document_id"]]["status"] == "rejected"
    assert get_review(first["review_id"])["decided_via"] == "cli"
    runs = default_ledger().query("SELECT status FROM runs WHERE document_id = ?",
                                  (first["document_id"],))  # fmt: skip
    assert [r["status"] for r in runs] == ["rejected"]


@pytest.mark.prefect
async def test_no_queue_run_without_pending_reviews(home: Path) -> None:
    assert await start_review_queue(None) is None
    assert await start_review_queue("no-such-batch") is None


@pytest.mark.parametrize(
    "hostile",
    ["[click](http://evil.example/x)", "<img src=x onerror=alert(1)>", "# heading\n| a | b |"],
)
def test_untrusted_text_in_the_form_is_inert(home: Path, hostile: str) -> None:
    request = ReviewRequest(
        run_id="r", workflow="document_analysis", document_id=hostile, step="sentiment",
        rule=SENTIMENT_REVIEW.name, output="sentiment", reasons=[hostile],
        proposed={"label": "neutral", "score": 0.0, "note": hostile},
        actions=["approve", "reject"], batch_id="batch-1",
    )  # fmt: skip
    save_pending(request)
    form = queue_form(queue_rows([request.review_id]), RULES)
    item = form.model_json_schema()["properties"]["item_1_decision"]["description"]
    for markdown in (form._description, item):
        markdown = re.sub(r"`[^`]*`", "", markdown)  # a code span shows its text as text
        assert not re.search(r"(?<!\\)\]\(http://evil", markdown)  # no link (escaped `\]`)
        assert "<img" not in markdown
        assert "\n# heading" not in markdown


def test_an_optional_field_shows_no_none_and_reads_back_as_none(home: Path) -> None:
    """No str/None toggle in the queue form: a field the schema lets be none is shown
    with its empty value, and that empty value, unchanged, is no edit."""
    from pydantic import BaseModel

    from eightflow.definition.review import ReviewRule

    class Named(BaseModel):
        label: str
        owner: str | None = None

    rule = ReviewRule(
        name="named", step="sentiment", output="sentiment", always=True,
        editable=("owner",), output_schema=Named,
    )  # fmt: skip
    request = ReviewRequest(
        run_id="run-o", workflow="document_analysis", document_id="o.md", step="sentiment",
        rule="named", output="sentiment", proposed={"label": "x", "owner": None},
        reasons=["r"], actions=["approve", "edit", "reject"], editable=["owner"],
        batch_id="batch-o",
    )  # fmt: skip
    save_pending(request)
    rows = queue_rows([request.review_id])
    form = queue_form(rows, {"named": rule})
    schema = json.dumps(form.model_json_schema())
    assert '"null"' not in schema and "anyOf" not in schema
    unchanged = form(item_1_decision="approve", reviewer="ann")
    [decision] = decisions_from_form(unchanged, rows, {"named": rule})
    assert (decision.decision, decision.edits) == ("approve", {})
    edited = form(item_1_decision="approve", item_1_owner="Ann Lee", reviewer="ann")
    [decision] = decisions_from_form(edited, rows, {"named": rule})
    assert (decision.decision, decision.edits) == ("edit", {"owner": "Ann Lee"})
