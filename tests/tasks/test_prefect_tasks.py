"""The tasks in ``eightflow_app.tasks.prefect_tasks`` make a custom flow in a few lines.

The flow below is the README's example: it runs against the test Prefect API on the
embedded model, writes the tables, makes no model call the second time (Prefect's cache),
and retries a model task on a temporary error only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.tasks.prefect_tasks import (
    _transient_only,
    entities,
    load,
    publish,
    sentiment,
    summarize,
)
from eightflow_app.tasks.results_table import ResultsTable
from prefect import flow, unmapped

from eightflow.errors import ModelPermanentError, ModelTemporaryError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "documents"


# --- the README's custom flow (15 lines) -------------------------------------------------
@flow(log_prints=True)
def quick_look(folder: str, out: str, model: str | None = None) -> Path:
    paths = sorted(str(p) for p in Path(folder).glob("*.md"))
    documents = load.map(paths, root=unmapped(folder))
    summaries = summarize.map(documents, model=unmapped(model))
    moods = sentiment.map(documents, model=unmapped(model))
    names = entities.map(documents, model=unmapped(model))
    rows = [
        {"id": d.result().id, "summary": s.result().summary, "sentiment": m.result().label,
         "entities": len(n.result().entities)}
        for d, s, m, n in zip(documents, summaries, moods, names, strict=True)
    ]  # fmt: skip
    return publish(rows, out)


# -----------------------------------------------------------------------------------------


@pytest.mark.prefect
def test_the_custom_flow_runs_on_the_embedded_model_and_writes_the_tables(tmp_path: Path) -> None:
    out = quick_look(str(EXAMPLES), str(tmp_path / "out"))
    table = ResultsTable.read(out / "results.parquet")
    expected = sorted(p.name for p in EXAMPLES.glob("*.md"))
    assert sorted(row["id"] for row in table.rows) == expected
    assert all(row["summary"] and row["sentiment"] in {"positive", "negative", "neutral"}
               for row in table.rows)  # fmt: skip
    assert (out / "results.csv").read_text(encoding="utf-8").startswith("id,")


@pytest.mark.prefect
def test_a_second_run_over_unchanged_documents_makes_no_model_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    from eightflow_app.tasks.analysis import steps

    calls: list[str] = []
    original = steps.analyze_sentiment

    async def counted(*args: Any) -> Any:
        calls.append("sentiment")
        return await original(*args)

    monkeypatch.setattr(steps, "analyze_sentiment", counted)
    folder = tmp_path / "docs"
    folder.mkdir()
    # Fresh content, so no cache entry of an earlier session can answer the first run.
    (folder / "note.md").write_text(f"We are delighted with run {uuid.uuid4()}.\n")

    @flow
    async def twice() -> list[str]:
        labels = []
        for _ in range(2):
            document = load(str(folder / "note.md"), root=str(folder))
            labels.append((await sentiment(document)).label)
        return labels

    first, second = asyncio.run(twice())
    assert first == second
    assert calls == ["sentiment"]


class _State:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    def result(self, raise_on_failure: bool = True) -> Any:
        if self.error is not None:
            raise self.error
        return None


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (ModelTemporaryError("429"), True),
        (ModelPermanentError("401"), False),
        (ValueError("a bug"), False),
        (None, False),
    ],
)
def test_model_tasks_retry_only_temporary_model_errors(
    error: BaseException | None, retried: bool
) -> None:
    assert _transient_only(None, None, _State(error)) is retried
