"""Scoring a model on a labelled set of real documents: ``eightflow eval WORKFLOW DIR``.

A real-document set is a folder holding ``manifest.csv`` (or that file itself) with the
columns ``file,source,kind,sentiment,entities,gist,key_terms``: ``file`` is a document
next to the manifest (``docs/<file>``, or beside it), ``kind`` says whether it is
``legal`` or ``technical`` text (anything else is allowed), ``sentiment`` one of the three
labels, ``entities`` ``text|type`` pairs separated by ``;`` as in ``entities.csv``, and
``key_terms`` the ``;``-separated terms of the one-sentence ``gist`` that a summary of the
document must contain.

Each document is read once (by ``reader``: the CLI passes the same loaders ``analyze``
uses, so PDFs and HTML are scored on the text a run would see) and sent through the
gateway with the ``sentiment``, ``entities`` and ``summarization`` prompts. The numbers:

* sentiment: 3-class accuracy, per-label precision/recall, and **neutral recall on
  technical and legal text** (``kind`` in ``legal``/``technical`` and labelled neutral);
* entities: micro precision/recall/F1 over ``(text, type)`` pairs, normalized like
  :func:`eightflow.evaluation.normalize_entity` plus a trailing company suffix
  ("Free Software Foundation, Inc." is "Free Software Foundation");
* summaries: the share of documents whose summary contains every key term
  (case-insensitive).

:data:`TARGETS` are the bars the embedded model is held to; the result says which are met.
Every metric is also written to the ledger's ``evals`` table, as ``eval`` does for CSVs.
"""

from __future__ import annotations

import asyncio
import csv
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from eightflow.errors import ModelError
from eightflow.evaluation import (
    CONCURRENCY,
    SENTIMENT_LABELS,
    EvalResult,
    EvalRow,
    EvaluationError,
    entity_metrics,
    normalize_entity,
    parse_expected_entities,
    sentiment_metrics,
)

if TYPE_CHECKING:
    from eightflow.store.ledger import Ledger

MANIFEST = "manifest.csv"
COLUMNS: tuple[str, ...] = ("file", "kind", "sentiment", "entities", "gist", "key_terms")
NEUTRAL_KINDS = frozenset({"legal", "technical"})
#: metric -> the bar it must reach on a real-document set.
TARGETS: dict[str, float] = {
    "sentiment_accuracy": 0.85,
    "neutral_recall_technical_legal": 0.9,
    "entity_precision": 0.95,
    "entity_recall": 0.8,
    "summary_key_terms": 0.8,
}
PROMPTS: dict[str, str] = {
    "sentiment": "sentiment",
    "entities": "entities",
    "summary": "summarization",
}
_COMPANY_SUFFIX = re.compile(r",?\s+(?:inc|ltd|llc|corp|corporation|co|gmbh|plc)\.?$")

Reader = Callable[[Path], str]


class RealDocument(BaseModel):
    """One labelled document of the set."""

    file: str
    path: str
    source: str = ""
    kind: str
    sentiment: str
    entities: list[tuple[str, str]]
    gist: str
    key_terms: list[str]


class SummaryRow(BaseModel):
    """A document's summary and the key terms it lacks."""

    file: str
    summary: str | None = None
    key_terms: list[str]
    missing: list[str] = Field(default_factory=list)
    correct: bool = False
    error: str | None = None


class RealSetResult(BaseModel):
    """The three tasks' results on one set, and which targets they meet."""

    eval_id: str
    workflow: str | None
    dataset: str
    dataset_path: str
    model: str
    prompts: dict[str, str] = Field(description="task -> the prompt reference scored.")
    rows: int
    metrics: dict[str, float | None]
    targets: dict[str, float] = Field(default_factory=lambda: dict(TARGETS))
    met: dict[str, bool]
    sentiment: EvalResult
    entities: EvalResult
    summaries: list[SummaryRow]
    duration_ms: float = 0.0


def is_real_set(path: Path | str) -> bool:
    """Whether ``path`` is a real-document set (a folder with a manifest, or the manifest)."""
    path = Path(path)
    if path.is_dir():
        return (path / MANIFEST).is_file()
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    return set(COLUMNS) <= {c.strip().lower() for c in header}


def real_entity_key(text: str) -> str:
    """:func:`normalize_entity`, and a company suffix (", Inc.") does not matter."""
    return _COMPANY_SUFFIX.sub("", normalize_entity(text)).strip()


def load_real_set(path: Path | str) -> list[RealDocument]:
    """The labelled documents of a set; every problem names its manifest row."""
    path = Path(path)
    manifest = path / MANIFEST if path.is_dir() else path
    if not manifest.is_file():
        raise EvaluationError(f"{path}: no {MANIFEST} here")
    root = manifest.parent
    with manifest.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = set(COLUMNS) - {(c or "").strip().lower() for c in reader.fieldnames or []}
        if missing:
            raise EvaluationError(f"{manifest}: missing columns {', '.join(sorted(missing))}")
        docs = [
            _document(record, root, f"{manifest} row {n}") for n, record in enumerate(reader, 1)
        ]
    if not docs:
        raise EvaluationError(f"{manifest}: no data rows")
    return docs


def _document(record: dict[str, str], root: Path, where: str) -> RealDocument:
    row = {(k or "").strip().lower(): (v or "").strip() for k, v in record.items()}
    name = row["file"]
    if not name or Path(name).name != name:
        raise EvaluationError(f"{where}: 'file' must be a plain file name, got '{name}'")
    found = next((p for p in (root / "docs" / name, root / name) if p.is_file()), None)
    if found is None:
        raise EvaluationError(f"{where}: {name} is neither in {root / 'docs'} nor in {root}")
    label = row["sentiment"].lower()
    if label not in SENTIMENT_LABELS:
        raise EvaluationError(f"{where}: sentiment '{label}' is not one of {SENTIMENT_LABELS}")
    terms = [t.strip() for t in row["key_terms"].split(";") if t.strip()]
    if not terms:
        raise EvaluationError(f"{where}: no key_terms for the gist")
    pairs = parse_expected_entities(row["entities"], where)
    return RealDocument(
        file=name,
        path=str(found),
        source=row.get("source", ""),
        kind=row["kind"].lower(),
        sentiment=label,
        entities=sorted({(real_entity_key(t), k) for t, k in pairs}),
        gist=row["gist"],
        key_terms=terms,
    )


def read_plain_text(path: Path) -> str:
    """The default reader: UTF-8 text files only (the CLI passes the real loaders)."""
    if path.suffix.lower() not in {".txt", ".md", ".text"}:
        raise EvaluationError(f"{path.name}: pass a reader that can load {path.suffix} files")
    return path.read_text(encoding="utf-8", errors="replace")


def missing_terms(summary: str, terms: list[str]) -> list[str]:
    """The key terms absent from ``summary`` (case-insensitive substring match)."""
    folded = " ".join(summary.split()).casefold()
    return [t for t in terms if " ".join(t.split()).casefold() not in folded]


async def evaluate_real_async(
    path: Path | str,
    model: str | None = None,
    *,
    reader: Reader | None = None,
    workflow: str | None = None,
    ledger: Ledger | None = None,
    record: bool = True,
) -> RealSetResult:
    """:func:`evaluate_real`, for callers already in an event loop."""
    from eightflow.gateway import ModelGateway

    docs = load_real_set(path)
    read = reader or read_plain_text
    texts = [read(Path(d.path)) for d in docs]
    gateway = ModelGateway(model=model)
    prompts = {task: gateway.prompts.get(ref) for task, ref in PROMPTS.items()}
    chosen = gateway.resolve_model(prompts["sentiment"], None)
    gate = asyncio.Semaphore(CONCURRENCY)
    t0 = time.perf_counter()

    async def ask(task: str, text: str) -> tuple[Any, str | None]:
        async with gate:
            try:
                return (await gateway.complete(prompts[task], text)).output, None
            except ModelError as exc:
                return None, str(exc)

    async def score(
        number: int, doc: RealDocument, text: str
    ) -> tuple[EvalRow, EvalRow, SummaryRow]:
        (mood, e1), (found, e2), (summary, e3) = await asyncio.gather(
            ask("sentiment", text), ask("entities", text), ask("summary", text)
        )
        srow = EvalRow(row=number, text=doc.file, expected=doc.sentiment, error=e1)
        if mood is not None:
            srow.predicted, srow.score = str(mood.label), getattr(mood, "score", None)
            srow.correct = srow.predicted == doc.sentiment
        erow = EvalRow(row=number, text=doc.file, expected=list(doc.entities), error=e2)
        gold = set(doc.entities)
        got: set[tuple[str, str]] = set()
        if found is not None:
            got = {(real_entity_key(e.text), str(e.type)) for e in found.entities}
            got = {pair for pair in got if pair[0]}
            erow.predicted = sorted(got)
        erow.tp, erow.fp, erow.fn = len(gold & got), len(got - gold), len(gold - got)
        erow.correct = gold == got
        mrow = SummaryRow(file=doc.file, key_terms=doc.key_terms, error=e3)
        if summary is not None:
            mrow.summary = str(summary.summary)
            mrow.missing = missing_terms(mrow.summary, doc.key_terms)
            mrow.correct = not mrow.missing
        else:
            mrow.missing = list(doc.key_terms)
        return srow, erow, mrow

    scored = await asyncio.gather(
        *(score(i, d, t) for i, (d, t) in enumerate(zip(docs, texts, strict=True), 1))
    )
    duration = (time.perf_counter() - t0) * 1000
    result = _assemble(path, docs, scored, chosen, workflow, prompts, duration)
    if record:
        _record(result, ledger)
    return result


def _assemble(
    path: Path | str,
    docs: list[RealDocument],
    scored: list[tuple[EvalRow, EvalRow, SummaryRow]],
    model: str,
    workflow: str | None,
    prompts: dict[str, Any],
    duration_ms: float,
) -> RealSetResult:
    srows = [s for s, _, _ in scored]
    erows = [e for _, e, _ in scored]
    mrows = [m for _, _, m in scored]
    if all(r.error for r in srows + erows):
        raise EvaluationError(f"every call on {path} failed on {model}: {srows[0].error}")
    s_metrics, s_per, confusion = sentiment_metrics(srows)
    e_metrics, e_per, _ = entity_metrics(erows)
    plain = [r for d, r in zip(docs, srows, strict=True) if d.kind in NEUTRAL_KINDS]
    neutral = [r for r in plain if r.expected == "neutral"]
    name, where = Path(path).name, str(Path(path).resolve())

    def result(
        task: str, rows: list[Any], metric: str, values: dict[str, Any], **extra: Any
    ) -> EvalResult:
        """One task's scores as an ``EvalResult`` (the shape single-CSV evals record)."""
        return EvalResult(
            eval_id=uuid.uuid4().hex[:16],
            task=task,
            prompt=prompts[task].ref,
            model=model,
            rows=len(rows),
            metric=metric,
            value=values[metric],
            metrics=values,
            errors=sum(1 for r in rows if r.error),
            predictions=rows,
            workflow=workflow,
            dataset=name,
            dataset_path=where,
            **extra,
        )

    sentiment = result(
        "sentiment", srows, "accuracy", s_metrics, per_label=s_per, confusion=confusion
    )
    entities = result("entities", erows, "f1", e_metrics, per_label=e_per)
    metrics: dict[str, float | None] = {
        "sentiment_accuracy": s_metrics["accuracy"],
        "neutral_recall_technical_legal": (
            sum(r.predicted == "neutral" for r in neutral) / len(neutral) if neutral else None
        ),
        "entity_precision": e_metrics["precision"],
        "entity_recall": e_metrics["recall"],
        "entity_f1": e_metrics["f1"],
        "summary_key_terms": sum(m.correct for m in mrows) / len(mrows),
    }
    met = {k: (metrics[k] or 0.0) >= bar for k, bar in TARGETS.items()}
    return RealSetResult(
        eval_id=uuid.uuid4().hex[:16],
        model=model,
        prompts={task: prompt.ref for task, prompt in prompts.items()},
        rows=len(docs),
        metrics=metrics,
        met=met,
        sentiment=sentiment,
        entities=entities,
        summaries=mrows,
        duration_ms=duration_ms,
        workflow=workflow,
        dataset=name,
        dataset_path=where,
    )


def evaluate_real(
    path: Path | str,
    model: str | None = None,
    *,
    reader: Reader | None = None,
    workflow: str | None = None,
    ledger: Ledger | None = None,
    record: bool = True,
) -> RealSetResult:
    """Score ``model`` (default: the settings' model) on a real-document set."""
    return asyncio.run(
        evaluate_real_async(
            path, model, reader=reader, workflow=workflow, ledger=ledger, record=record
        )
    )


def _record(result: RealSetResult, ledger: Ledger | None) -> None:
    from eightflow.store.ledger import default_ledger

    target = ledger or default_ledger()
    tasks = {
        "sentiment_accuracy": "sentiment",
        "neutral_recall_technical_legal": "sentiment",
        "entity_precision": "entities",
        "entity_recall": "entities",
        "entity_f1": "entities",
        "summary_key_terms": "summary",
    }
    for metric, value in result.metrics.items():
        if value is None:
            continue
        task = tasks[metric]
        target.record_eval(
            {
                "eval_id": result.eval_id,
                "workflow": result.workflow,
                "dataset": result.dataset,
                "task": PROMPTS[task],
                "prompt": result.prompts[task],
                "model": result.model,
                "metric": metric,
                "value": value,
                "rows": result.rows,
            }
        )
