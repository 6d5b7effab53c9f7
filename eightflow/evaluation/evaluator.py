"""The one evaluator: ``eightflow eval`` on any kind of labelled set.

A **kind** says which prompts a set calls (``roles()``: role -> (prompt id, output field
the prompt must have)), how its cases load (``load(path, reader)``: ``[(name, text,
expected), ...]``) and how answers become a result (``assemble(cases, answers, head)``).
The kinds are the labelled CSVs (:mod:`eightflow.evaluation.csv_kinds`, told apart by
their header) and the real-document sets (:mod:`eightflow.evaluation.real_set`, a folder
with ``manifest.csv``).

Every call is a real model call through :class:`eightflow.gateway.ModelGateway` (litellm;
the default model is the settings' default, the embedded one offline), at most
:data:`CONCURRENCY` at a time. Every evaluation is recorded the same way
(:func:`record_result`): one row per metric with a value in the ledger's ``evals`` table,
filed under the task and prompt the metric measures.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from eightflow.errors import ModelError
from eightflow.evaluation import csv_kinds
from eightflow.evaluation.real_set import RealSetKind, is_real_set
from eightflow.evaluation.results import CONCURRENCY, EvalResult, EvaluationError

if TYPE_CHECKING:
    from eightflow.prompts import Prompt
    from eightflow.store.ledger import Ledger

Reader = Callable[[Path], str]
"""Reads a document of a real-document set as the workflow would (path -> text)."""


class EvalKind(Protocol):
    """What the evaluator needs of a kind of labelled set."""

    @property
    def name(self) -> str: ...

    def roles(self) -> dict[str, tuple[str, str]]: ...

    def load(self, path: Path, reader: Any = None) -> list[tuple[str, str, Any]]: ...

    def assemble(
        self, cases: list[tuple[str, str, Any]], answers: list[dict[str, Any]], head: Any
    ) -> EvalResult: ...


def kind_for(dataset: Path | str, split: str | None = None) -> EvalKind:
    """The kind of ``dataset``: a real-document set (of one ``split``, if given), or the CSV
    kind its header names."""
    path = Path(dataset)
    if is_real_set(path):
        return RealSetKind(split)
    if split is not None:
        raise EvaluationError(f"{path.name}: only a real-document set has dev/test splits")
    task, _ = csv_kinds.load_dataset(path)
    return csv_kinds.TASK_KINDS[task]


def resolve_prompts(gateway: Any, kind: EvalKind, prompt_ref: str | None) -> dict[str, Prompt]:
    """role -> prompt: each role's newest prompt, one of them pinned by ``prompt_ref``.

    ``"2"``/``"v2"`` is that version of a one-prompt kind's prompt; ``"id@vN"`` pins the
    role whose prompt is ``id`` (on a one-prompt kind, any reference replaces it).
    """
    roles = kind.roles()
    refs = {role: prompt_id for role, (prompt_id, _) in roles.items()}
    if prompt_ref and prompt_ref.strip():
        text = prompt_ref.strip()
        bare = text.lstrip("v@")
        if len(roles) == 1:
            [(role, prompt_id)] = refs.items()
            refs[role] = f"{prompt_id}@v{bare}" if bare.isdigit() else text
        elif bare.isdigit():
            raise EvaluationError(
                f"prompt version '{text}' is ambiguous: a {kind.name} set calls "
                f"{', '.join(refs.values())}; name one, e.g. {next(iter(refs.values()))}@v{bare}"
            )
        else:
            prompt_id = text.partition("@")[0]
            matches = [role for role, pid in refs.items() if pid == prompt_id]
            if not matches:
                raise EvaluationError(
                    f"prompt '{text}' is none of the prompts a {kind.name} set calls "
                    f"({', '.join(refs.values())})"
                )
            refs[matches[0]] = text
    prompts: dict[str, Prompt] = {}
    for role, ref in refs.items():
        prompt: Prompt = gateway.prompts.get(ref)
        field = roles[role][1]
        schema = prompt.output_schema
        if schema is None or field not in schema.model_fields:
            raise EvaluationError(
                f"prompt '{prompt.ref}' cannot be scored as {role}: its output schema has no "
                f"'{field}' field"
            )
        prompts[role] = prompt
    return prompts


async def evaluate_async(
    dataset_path: Path | str,
    model: str | None = None,
    prompt_ref: str | None = None,
    *,
    reader: Reader | None = None,
    workflow: str | None = None,
    ledger: Ledger | None = None,
    record: bool = True,
    split: str | None = None,
) -> EvalResult:
    """:func:`evaluate`, for callers already in an event loop."""
    from eightflow.gateway import ModelGateway

    path = Path(dataset_path)
    kind = kind_for(path, split)
    cases = kind.load(path, reader)
    gateway = ModelGateway(model=model)
    prompts = resolve_prompts(gateway, kind, prompt_ref)
    chosen = gateway.resolve_model(next(iter(prompts.values())), None)
    gate = asyncio.Semaphore(CONCURRENCY)
    spend: list[tuple[float | None, int, int]] = []
    t0 = time.perf_counter()

    async def ask(role: str, text: str) -> tuple[Any, str | None]:
        async with gate:
            try:
                answer = await gateway.complete(prompts[role], text)
            except ModelError as exc:
                return None, str(exc)
        spend.append((answer.cost_usd, answer.tokens_in, answer.tokens_out))
        return answer.output, None

    async def case_answers(text: str) -> dict[str, tuple[Any, str | None]]:
        got = await asyncio.gather(*(ask(role, text) for role in prompts))
        return dict(zip(prompts, got, strict=True))

    answers = list(await asyncio.gather(*(case_answers(text) for _, text, _ in cases)))
    failures = [error for a in answers for _, error in a.values() if error]
    if len(failures) == sum(len(a) for a in answers):
        raise EvaluationError(
            f"every row of {path.name} failed on {chosen} with "
            f"{', '.join(p.ref for p in prompts.values())}; first error: {failures[0]}"
        )
    costs = [c for c, _, _ in spend]
    head: dict[str, Any] = {
        "eval_id": uuid.uuid4().hex[:16],
        "workflow": workflow,
        "dataset": path.name if split is None else f"{path.name}:{split}",
        "dataset_path": str(path.resolve()),
        "model": chosen,
        "prompts": {role: p.ref for role, p in prompts.items()},
        "cost_usd": None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
        "tokens_in": sum(t for _, t, _ in spend),
        "tokens_out": sum(t for _, _, t in spend),
        "duration_ms": (time.perf_counter() - t0) * 1000,
    }
    result = kind.assemble(cases, answers, head)
    if record:
        record_result(result, ledger)
    return result


def evaluate(
    dataset_path: Path | str,
    model: str | None = None,
    prompt_ref: str | None = None,
    *,
    reader: Reader | None = None,
    workflow: str | None = None,
    ledger: Ledger | None = None,
    record: bool = True,
    split: str | None = None,
) -> EvalResult:
    """Score ``model`` (default: the settings' model) on a labelled set of any kind.

    ``prompt_ref`` pins a prompt: ``"2"`` or ``"v2"`` is that version of a CSV kind's
    prompt, anything else a full ``id@vN`` reference. ``reader`` reads the documents of a
    real-document set (default: plain text files only). One ``evals`` row per metric is
    written to ``ledger`` (default: the ledger under EIGHTFLOW_HOME) unless ``record`` is
    False. ``split`` (``dev`` or ``test``) scores one split of a real-document set; the
    ledger's dataset is then ``NAME:SPLIT``.
    """
    return asyncio.run(
        evaluate_async(
            dataset_path,
            model,
            prompt_ref,
            reader=reader,
            workflow=workflow,
            ledger=ledger,
            record=record,
            split=split,
        )
    )


def record_result(result: EvalResult, ledger: Ledger | None = None) -> None:
    """One ``evals`` row per metric that has a value, under the task it measures."""
    from eightflow.store.ledger import default_ledger

    target = ledger or default_ledger()
    for metric, value in result.metrics.items():
        if value is None:
            continue
        target.record_eval(
            {
                "eval_id": result.eval_id,
                "workflow": result.workflow,
                "dataset": result.dataset,
                "task": result.task_of(metric),
                "prompt": result.prompt_of(metric),
                "model": result.model,
                "metric": metric,
                "value": value,
                "rows": result.rows,
            }
        )
