"""Replay: run a recorded workflow run again with model answers served from the ledger.

No cost, offline and deterministic: each step's calls are answered, in order, with the
responses the ledger recorded, through a litellm provider (``replay/...``) so the code path
is the one a real call takes. A long answer the ledger kept only as an excerpt (the
default: see ``eightflow.store.recorded_inputs``) is read whole from the response cache,
if its digest still matches the recorded one. A step whose prompt (id, version or content)
or model has changed since the recording is a *miss*: it fails with the reason instead of
being served stale answers. ``live`` names steps to run for real, to test a change in
isolation. The replay is a run like any other (:mod:`eightflow.pipeline`): review rules
apply, and it is recorded in the ledger under its own run id, with its artifacts, spans and
target checks.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from typing import Any

from eightflow.errors import WorkflowError
from eightflow.providers import ProviderFault, ProviderRequest
from eightflow.runtime.records import WorkflowResult
from eightflow.runtime.run_state import StepScope
from eightflow.store.ledger import Ledger, default_ledger
from eightflow.store.recorded_inputs import answer_excerpt, restore_inputs


class ReplaySource:
    """Recorded answers of one run, handed out per step in call order."""

    def __init__(
        self, calls: list[dict[str, Any]], live: set[str] | None = None, cache: Any = None
    ) -> None:
        self.live = set(live or ())
        self.cache = cache  # where answers kept only as an excerpt are found whole
        self._answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for call in calls:
            if call["error"] is None and call["response"] is not None:
                self._answers[call["step"]].append(call)
        self._next: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self.served = 0
        self.misses: list[str] = []

    def serves(self, scope: StepScope | None) -> bool:
        return scope is not None and scope.record.name not in self.live

    def __call__(self, request: ProviderRequest) -> str:
        meta = request.metadata
        step = str(meta.get("eightflow_step"))
        with self._lock:
            recorded = self._answers.get(step, [])
            index = self._next[step]
            self._next[step] += 1
        if index >= len(recorded):
            return self._miss(step, f"the recording has no call #{index + 1} for this step")
        call = recorded[index]
        model = meta.get("eightflow_model")
        if call["model"] != model:
            return self._miss(step, f"model changed: recorded {call['model']}, now {model}")
        now = (meta.get("eightflow_prompt_id"), meta.get("eightflow_prompt_version"))
        then = (call["prompt_id"], call["prompt_version"])
        if now != then:
            return self._miss(
                step, f"prompt changed: recorded {then[0]}@v{then[1]}, now {now[0]}@v{now[1]}"
            )
        if call["prompt_hash"] != meta.get("eightflow_prompt_hash"):
            return self._miss(step, f"prompt {now[0]}@v{now[1]} was edited since the recording")
        answer = self._whole(step, call, meta.get("eightflow_cache_key"))
        self.served += 1
        return answer

    def _whole(self, step: str, call: dict[str, Any], key: Any) -> str:
        stored = str(call["response"])
        if answer_excerpt(stored) is None:
            return stored
        hit = self.cache.get(str(key)) if self.cache is not None and key else None
        text = hit.get("text") if isinstance(hit, dict) else None
        digest = hashlib.sha256(text.encode()).hexdigest()[:16] if text else None
        if text is None or digest != call["output_digest"]:
            return self._miss(
                step,
                "the ledger kept only an excerpt of this answer and the response cache no "
                "longer holds it (set EIGHTFLOW_LEDGER_FULL_INPUTS=1 to keep whole answers)",
            )
        return str(text)

    def _miss(self, step: str, why: str) -> str:
        self.misses.append(f"{step}: {why}")
        raise ProviderFault("NotFoundError", f"replay miss in step '{step}': {why}")


async def replay_run(
    run_id: str, live: list[str] | None = None, ledger: Ledger | None = None
) -> tuple[WorkflowResult, ReplaySource]:
    """Re-run ``run_id`` from the ledger. Returns the new result and the replay source."""
    from eightflow.gateway import register_provider
    from eightflow.registry import load_workflow

    ledger = ledger or default_ledger()
    recorded = ledger.run(run_id)
    if recorded is None:
        raise WorkflowError(f"no single recorded run matches '{run_id}' in {ledger.path}")
    if not recorded.get("inputs"):
        raise WorkflowError(f"run {recorded['run_id']} has no recorded inputs to replay")
    workflow = load_workflow(recorded["workflow"])(model=recorded.get("model"))
    unknown = set(live or ()) - {leaf.name for leaf in workflow.definition.leaves}
    if unknown:
        raise WorkflowError(f"--live names unknown steps: {', '.join(sorted(unknown))}")
    from eightflow.store.cache import ResponseCache

    source = ReplaySource(
        ledger.calls(recorded["run_id"]), set(live or ()), cache=ResponseCache.default()
    )
    register_provider("replay", source)
    cls = type(workflow)

    def read_text(path: str) -> str:
        document = cls.inputs_from_path(path)["document"]
        return str(getattr(document, "text", document))

    values = restore_inputs(json.loads(recorded["inputs"]), recorded["run_id"], read_text)
    run = workflow.new_run(recorded.get("model"), recorded.get("document_id"))
    run.replay = source
    # The pipeline of every run: review rules, the ledger (a new run), artifacts, spans.
    result = await workflow.run_in_flow(run, values, lambda: workflow.execute_in_flow(run, values))
    return result, source
