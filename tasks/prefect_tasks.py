"""Prefect tasks for your own flows: load a document, analyse it, publish the results.

The shipped workflows compile their steps into tasks themselves; these are the same units
for someone who would rather write a plain Prefect flow. Each is an ordinary ``@task``
with a name, a ``task_run_name`` template, and retries where a retry can help:

- :func:`load` reads one document through the loader's one door (data roots, size and
  format limits, the loader sandbox) and never retries: a bad file stays bad.
- :func:`summarize`, :func:`topics`, :func:`sentiment` and :func:`entities` call a model
  through eightflow's gateway (litellm; the embedded model when no key is set), so every
  call has its tokens, cost and prompt version. They retry twice, and only on a temporary
  model error (rate limit, timeout, 5xx): the gateway itself never retries, so this is
  the one retry layer.
- :func:`publish` writes ``results.csv`` and ``results.parquet`` and a table artifact.

Caching: the model tasks are cached by Prefect on what decides their answer, and nothing
else: the document's sha256, the model and the prompt's id, version and content hash. A
re-run over unchanged documents makes no model call. The document's text is not part of
the key, and loading is not cached (it is cheap, and a file may change under the same
name).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

from eightflow_app.tasks.analysis import steps
from eightflow_app.tasks.analysis.schemas import Entities, Sentiment, Summary, Topics
from eightflow_app.tasks.loading.sandbox import sandboxed_load_document
from eightflow_app.tasks.publishing import write_tables
from eightflow_app.tasks.results_table import ResultsTable
from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.context import TaskRunContext

from eightflow import PromptRegistry
from eightflow.documents import Document
from eightflow.errors import ModelTemporaryError
from eightflow.safety.sanitize_memo import SanitizeMemo

__all__ = ["entities", "load", "publish", "sentiment", "summarize", "topics"]

#: Which prompt each model task renders (``prompts/<id>.v<N>.md``).
PROMPT_OF = {
    "summarize": "summarization",
    "topics": "topic_extraction",
    "sentiment": "sentiment",
    "entities": "entities",
}


def _transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a model task only when the model's error was temporary."""
    try:
        state.result(raise_on_failure=True)
    except ModelTemporaryError:
        return True
    except BaseException:
        return False
    return False


def _answer_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """What decides a model task's answer: document (or text) hash, model, prompt."""
    name = context.task.name
    prompt = PromptRegistry().get(PROMPT_OF[name])
    subject = parameters.get("document") or parameters.get("summary")
    digest = getattr(subject, "sha256", None)
    if digest is None:  # a Summary: hash what the model will read
        text = getattr(subject, "summary", "")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    model = parameters.get("model") or ""
    return f"{name}:{digest}:{model}:{prompt.ref}:{prompt.hash}"


_MODEL_TASK: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [1, 4],
    "retry_condition_fn": _transient_only,
    "cache_key_fn": _answer_key,
    "cache_expiration": timedelta(days=7),
    "persist_result": True,
}


def _gateway(model: str | None) -> Any:
    from eightflow.gateway import ModelGateway  # imports litellm: only when a task runs

    return ModelGateway(model)


@task(name="load", task_run_name="load {path}", cache_policy=NONE, persist_result=False)
def load(path: str | Path, root: str | Path | None = None) -> Document:
    """One document, read and normalized through the one loader door (PDF, DOCX, HTML and
    CSV parsed in the loader sandbox); ``DocumentError`` names what is wrong with it."""
    return sandboxed_load_document(path, root)


@task(name="summarize", task_run_name="summarize {document.id}", **_MODEL_TASK)
async def summarize(document: Document, model: str | None = None) -> Summary:
    """A summary and key points of the document (chunked map-reduce when it is long)."""
    gateway = _gateway(model)
    return await steps.summarize(gateway, gateway.prompts, document.text)


@task(name="topics", task_run_name="topics", **_MODEL_TASK)
async def topics(summary: Summary, model: str | None = None) -> Topics:
    """Topics and keyphrases, read from a summary."""
    gateway = _gateway(model)
    return await steps.extract_topics(gateway, gateway.prompts, summary.summary)


@task(name="sentiment", task_run_name="sentiment {document.id}", **_MODEL_TASK)
async def sentiment(document: Document, model: str | None = None) -> Sentiment:
    """Positive, negative or neutral, with a score and a confidence."""
    gateway = _gateway(model)
    return await steps.analyze_sentiment(gateway, gateway.prompts, document.text)


@task(name="entities", task_run_name="entities {document.id}", **_MODEL_TASK)
async def entities(document: Document, model: str | None = None) -> Entities:
    """People, organisations, places, dates, amounts, emails and URLs in the document."""
    gateway = _gateway(model)
    return await steps.extract_entities(gateway, gateway.prompts, document.text)


@task(name="publish", task_run_name="publish {out}", cache_policy=NONE, persist_result=False)
def publish(rows: list[dict[str, Any]], out: str | Path, key: str = "results") -> Path:
    """``results.csv`` and ``results.parquet`` under ``out``, and a table artifact ``key``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    memo = SanitizeMemo()  # no secret reaches a table or an artifact
    rows = [memo.walk(row, limit=None) for row in rows]
    write_tables(ResultsTable(rows), folder)
    create_table_artifact(key=key, table=rows, description=f"{len(rows)} rows, in {folder}")
    return folder
