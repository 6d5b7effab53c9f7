"""Review outcomes as quality measures: review, approval and edit rates per step and prompt.

For each workflow, step and prompt version in the ledger:

* ``review_rate``: reviews asked over the step's completed runs with that prompt;
* ``approval_rate``: decided reviews that kept the model's output unchanged (approved,
  or approved by a timeout) over decided reviews;
* ``edit_rate``: decided reviews a person corrected, over decided reviews;
* ``rejection_rate``: the rest of the decided ones, rejected or failed;
* ``median_seconds_to_decide`` over decided reviews.

A step whose outputs people rarely need to see, and rarely correct when they do, is one
whose model can be trusted in production.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from typing import Any

from eightflow.observe.metrics import percentile
from eightflow.store.ledger import Ledger


def review_rates(
    ledger: Ledger, workflow: str | None = None, cutoff: datetime | None = None
) -> list[dict[str, Any]]:
    where, params = "", ()
    if workflow is not None:
        where, params = " AND r.workflow = ?", (workflow,)  # type: ignore[assignment]
    since = cutoff.isoformat() if cutoff is not None else ""
    steps = ledger.query(
        "SELECT r.workflow, s.name AS step, s.prompt, COUNT(*) AS n FROM steps s "
        "JOIN runs r ON r.run_id = s.run_id WHERE s.status = 'completed' AND r.started >= ?"
        + where
        + " GROUP BY r.workflow, s.name, s.prompt",
        (since, *params),
    )
    reviews = ledger.query(
        "SELECT workflow, step, prompt, status, decision, seconds_to_decide FROM reviews r "
        "WHERE created >= ?" + where.replace("r.workflow", "workflow"),
        (since, *params),
    )
    groups: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for row in reviews:
        key = (row["workflow"], row["step"], row["prompt"])
        group = groups.setdefault(key, {"asked": 0, "decided": [], "seconds": []})
        group["asked"] += 1
        if row["decision"]:
            group["decided"].append(row["decision"])
            if row["seconds_to_decide"] is not None:
                group["seconds"].append(float(row["seconds_to_decide"]))
    runs = {(s["workflow"], s["step"], s["prompt"]): int(s["n"]) for s in steps}
    reviewed_steps = {(wf, step) for wf, step, _ in groups}
    for wf, step, prompt in runs:  # a prompt version of a reviewed step that needed none
        if (wf, step) in reviewed_steps:
            groups.setdefault((wf, step, prompt), {"asked": 0, "decided": [], "seconds": []})
    out = []
    for (wf, step, prompt), group in sorted(groups.items(), key=lambda kv: str(kv[0])):
        decided = group["decided"]
        n = len(decided)
        completed = runs.get((wf, step, prompt), 0)
        out.append(
            {
                "workflow": wf,
                "step": step,
                "prompt": prompt,
                "step_runs": completed,
                "reviews": group["asked"],
                "pending": group["asked"] - n,
                "decided": n,
                "review_rate": group["asked"] / completed if completed else None,
                "approval_rate": decided.count("approve") / n if n else None,
                "edit_rate": decided.count("edit") / n if n else None,
                "rejection_rate": (n - decided.count("approve") - decided.count("edit")) / n
                if n
                else None,
                "median_seconds_to_decide": percentile(group["seconds"], 50),
            }
        )
    return out


PRIMARY = {"sentiment": "accuracy", "entities": "f1"}


def eval_scores(ledger: Ledger, workflow: str | None = None) -> list[dict[str, Any]]:
    """The latest evaluation per workflow, dataset, prompt and model: its main metric.

    ``eightflow eval`` (and ``--compare``) record these; ``report --by prompt`` lists
    them next to the production review rates, so a prompt version's offline score and its
    rate of human corrections can be read together.
    """
    sql, params = "SELECT * FROM evals", ()
    if workflow is not None:
        sql, params = sql + " WHERE workflow = ?", (workflow,)  # type: ignore[assignment]
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in ledger.query(sql + " ORDER BY created, rowid", params):
        if row["metric"] != PRIMARY.get(row["task"], row["metric"]):
            continue
        key = (row["workflow"], row["dataset"], row["prompt"], row["model"])
        latest[key] = row  # later rows replace earlier ones
    return [
        {
            "workflow": r["workflow"],
            "dataset": r["dataset"],
            "prompt": r["prompt"],
            "model": r["model"],
            "metric": r["metric"],
            "value": r["value"],
            "rows": r["rows"],
            "eval_id": r["eval_id"],
            "created": r["created"],
        }
        for r in sorted(
            latest.values(),
            key=lambda r: (str(r["workflow"]), r["dataset"], r["prompt"], r["model"]),
        )
    ]


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def grounding_failures(
    ledger: Ledger, workflow: str | None = None, cutoff: datetime | None = None
) -> list[dict[str, Any]]:
    """Why answers were not grounded in their documents, per workflow, step, model and
    prompt: each kind of reason (its quoted text left out) with a count and one example."""
    sql = (
        "SELECT r.workflow, t.name AS step, t.model, t.prompt, "
        "json_extract(t.notes, '$.grounding.reasons') AS reasons FROM steps t "
        "JOIN runs r ON r.run_id = t.run_id "
        "WHERE json_extract(t.notes, '$.grounding.grounded') = 0 AND r.started >= ?"
    )
    params: list[Any] = [cutoff.isoformat() if cutoff is not None else ""]
    if workflow is not None:
        sql += " AND r.workflow = ?"
        params.append(workflow)
    counts: Counter[tuple[str, ...]] = Counter()
    examples: dict[tuple[str, ...], str] = {}
    for row in ledger.query(sql, tuple(params)):
        for reason in json.loads(row["reasons"] or "[]"):
            kind = _QUOTED.sub("…", str(reason))
            key = (row["workflow"], row["step"], row["model"] or "", row["prompt"] or "", kind)
            counts[key] += 1
            examples.setdefault(key, str(reason))
    return [
        dict(zip(("workflow", "step", "model", "prompt", "reason"), key, strict=True))
        | {"count": n, "example": examples[key]}
        for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
