"""The embedded planner: answers ``workflow_planning`` by rules, in the ``Plan`` schema.

The planning prompt's user message carries three blocks: ``<registry>`` (the step types,
as JSON), ``<state>`` (round, available context keys, executed steps and the feedback on a
rejected plan, as JSON) and ``<document>``. The planner profiles the document
(:mod:`eightflow.embedded.profile`) and asks the workflow's :class:`PlanningRules` which
step types it wants, each as ``(alternatives, reason)``. The rules belong to the workflow
that owns the step types (document triage keeps its own in ``tasks/triage/planning.py``) and
are installed with :func:`use_planning_rules`; this module knows no step names.

Of the wanted steps it proposes what the registry has, minus what was executed, minus the
types the feedback rejected, minus steps whose inputs are missing or whose outputs already
exist; a later alternative stands in for a type that is unavailable. When nothing is left
(or no rules are installed) it answers ``done: true`` with no steps. The answer is a plain
dict matching :class:`eightflow.planning.dynamic.Plan`; same message, same plan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eightflow.embedded.profile import LANGUAGE_NAMES, Profile, profile_document
from eightflow.embedded.text import extract_document

__all__ = [
    "PLANNER_DOCUMENT_CHARS",
    "PlanningRules",
    "WantedSteps",
    "plan_next_steps",
    "planning_rules",
    "use_planning_rules",
]

PLANNER_DOCUMENT_CHARS = 6000
"""The engine sends the planner at most this many characters of the document; an excerpt
that long was cut, so the document is long even if the excerpt's words are few."""
_CUT_SLACK = 10  # the cut may end in whitespace, which rendering strips

WantedSteps = list[tuple[tuple[str, ...], str]]
"""``(alternatives, reason)`` pairs, in order: the first alternative the registry can run wins."""


@dataclass(frozen=True)
class PlanningRules:
    """What a workflow wants run on a document, given its profile.

    ``wanted(profile, long)`` returns :data:`WantedSteps`; ``long`` is True when the document
    is long or the excerpt the planner saw was cut. ``default_registry`` stands in for a
    message without a ``<registry>`` block: ``{name: {"name", "inputs", "outputs"}}``.
    """

    wanted: Callable[[Profile, bool], WantedSteps]
    default_registry: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


_rules: PlanningRules | None = None


def use_planning_rules(rules: PlanningRules | None) -> None:
    """Install the rules the embedded planner plans by (None removes them)."""
    global _rules
    _rules = rules


def planning_rules() -> PlanningRules | None:
    """The installed rules, if any."""
    return _rules


_BLOCK = {
    name: re.compile(rf"<{name}\b[^>]*>(.*?)</{name}\s*>", re.IGNORECASE | re.DOTALL)
    for name in ("registry", "state")
}


def _json_block(message: str, name: str) -> Any:
    """The JSON inside the last ``<name>`` block of the message, or None."""
    found = _BLOCK[name].findall(message or "")
    if not found:
        return None
    try:
        return json.loads(found[-1])
    except ValueError:
        return None


def _registry(message: str) -> dict[str, dict[str, Any]]:
    parsed = _json_block(message, "registry")
    if not isinstance(parsed, list):
        rules = planning_rules()
        return {k: dict(v) for k, v in (rules.default_registry if rules else {}).items()}
    types: dict[str, dict[str, Any]] = {}
    for entry in parsed:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            types[entry["name"]] = {
                "name": entry["name"],
                "inputs": [str(i) for i in entry.get("inputs") or []],
                "outputs": [str(o) for o in entry.get("outputs") or []],
            }
    return types


def _state(message: str) -> dict[str, Any]:
    parsed = _json_block(message, "state")
    return parsed if isinstance(parsed, dict) else {}


def _names(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def plan_next_steps(message: str, document: str | None = None) -> dict[str, Any]:
    """The next plan for the planning prompt's user ``message`` (a dict shaped as ``Plan``).

    ``document`` overrides the ``<document>`` block (the engine passes the text it
    already extracted).
    """
    text = extract_document(message) if document is None else document
    registry = _registry(message)
    state = _state(message)
    executed = set(_names(state.get("executed")))
    feedback = state.get("feedback")
    rejected = {
        str(f.get("step"))
        for f in (feedback if isinstance(feedback, list) else [])
        if isinstance(f, dict)
    }
    available = set(_names(state.get("available"))) if "available" in state else {"document"}

    profile = profile_document(text)
    cut = PLANNER_DOCUMENT_CHARS - _CUT_SLACK <= len(text) <= PLANNER_DOCUMENT_CHARS
    rules = planning_rules()
    wanted = rules.wanted(profile, profile.long or cut) if rules else []

    steps: list[dict[str, str]] = []
    produced = set(available)
    for alternatives, reason in wanted:
        for name in alternatives:
            kind = registry.get(name)
            if kind is None or name in executed or name in rejected:
                continue
            if any(i not in produced for i in kind["inputs"]):
                continue
            if kind["outputs"] and all(o in produced for o in kind["outputs"]):
                continue  # already there (e.g. a summary from the other summarizer)
            steps.append({"type": name, "reason": reason})
            produced.update(kind["outputs"])
            break

    language = LANGUAGE_NAMES.get(profile.language, profile.language)
    size = f"{profile.words}+ words, excerpt cut" if cut else f"{profile.words} words"
    seen = f"{profile.kind.replace('_', ' ')} ({size}, {language})"
    if not steps:
        did = ", ".join(sorted(executed)) or "nothing"
        why = "no planning rules are installed" if rules is None else "nothing useful is left"
        return {
            "rationale": f"{seen}: {why} (executed: {did}).",
            "steps": [],
            "done": True,
        }
    dropped = sorted(rejected & {n for alts, _ in wanted for n in alts})
    note = f"; dropped rejected {', '.join(dropped)}" if dropped else ""
    chosen = ", ".join(s["type"] for s in steps)
    return {
        "rationale": f"{seen}: {chosen}{note}.",
        "steps": steps,
        "done": False,
    }
