"""The embedded planner: answers ``workflow_planning`` by rules, in the ``Plan`` schema.

The planning prompt's user message carries three blocks: ``<registry>`` (the step types,
as JSON), ``<state>`` (round, available context keys, executed steps and the feedback on a
rejected plan, as JSON) and ``<document>``. The planner profiles the document
(:mod:`eightflow.embedded.profile`) and wants, by rules:

* a non-English document: ``flag_language``, and no deep analysis;
* legal or licence text: ``classify_legal`` only;
* an FAQ: ``extract_faq`` (and a summary);
* meeting notes: ``extract_actions`` (and a summary);
* tables anywhere: ``extract_tables`` (a mostly tabular file gets nothing else);
* otherwise a summary: ``summarize_chunks`` when long, ``summarize`` when not.

Of those it proposes what the registry has, minus what was executed, minus the types the
feedback rejected, minus steps whose inputs are missing or whose outputs already exist;
alternatives stand in for a type that is unavailable (``summarize`` for
``summarize_chunks``). When nothing is left it answers ``done: true`` with no steps. The
answer is a plain dict matching :class:`eightflow.dynamic.Plan`; same message, same plan.
"""

from __future__ import annotations

import json
import re
from typing import Any

from eightflow.embedded.profile import LANGUAGE_NAMES, Profile, profile_document

__all__ = ["PLANNER_DOCUMENT_CHARS", "plan_next_steps", "wanted_steps"]

PLANNER_DOCUMENT_CHARS = 6000
"""The engine sends the planner at most this many characters of the document; an excerpt
that long was cut, so the document is long even if the excerpt's words are few."""
_CUT_SLACK = 10  # the cut may end in whitespace, which rendering strips

_BLOCK = {
    name: re.compile(rf"<{name}\b[^>]*>(.*?)</{name}\s*>", re.IGNORECASE | re.DOTALL)
    for name in ("registry", "state")
}

# Step types the rules know, with their inputs and outputs, for a message without a registry.
_DEFAULT_REGISTRY: dict[str, dict[str, Any]] = {
    name: {"name": name, "inputs": ["document"], "outputs": [output]}
    for name, output in (
        ("summarize", "summary"),
        ("summarize_chunks", "summary"),
        ("extract_tables", "tables"),
        ("extract_actions", "action_items"),
        ("flag_language", "language"),
        ("classify_legal", "legal"),
        ("extract_faq", "faq"),
    )
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
        return dict(_DEFAULT_REGISTRY)
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


def wanted_steps(
    profile: Profile, *, long: bool | None = None
) -> list[tuple[tuple[str, ...], str]]:
    """What the rules want for this profile: ``(alternatives, reason)``, in order."""
    is_long = profile.long if long is None else long
    if not profile.english:
        name = LANGUAGE_NAMES.get(profile.language, profile.language)
        return [
            (
                ("flag_language",),
                f"written in {name} ({profile.language}), not English: flag it and stop "
                "before the deep analysis",
            )
        ]
    if profile.kind == "legal":
        return [
            (
                ("classify_legal",),
                f"legal wording ({profile.legal_cues} cues, mostly {profile.legal_kind}): "
                "classify it and skip the deep analysis",
            )
        ]
    wanted: list[tuple[tuple[str, ...], str]] = []
    if profile.kind == "faq":
        wanted.append((("extract_faq",), f"an FAQ with {profile.questions} questions"))
    if profile.kind == "meeting_notes":
        wanted.append(
            (("extract_actions",), "meeting notes: pull out the action items, owners and dates")
        )
    if profile.has_tables:
        columns = ", ".join(profile.table_columns[0][:4])
        wanted.append(
            (
                ("extract_tables",),
                f"{profile.tables} table{'s' if profile.tables != 1 else ''} (columns {columns})",
            )
        )
    if profile.kind != "tabular":
        if is_long:
            wanted.append(
                (
                    ("summarize_chunks", "summarize"),
                    (
                        f"long ({profile.words} words)"
                        if profile.long
                        else f"long (more than the {PLANNER_DOCUMENT_CHARS:,} characters shown)"
                    )
                    + ": summarize chunk by chunk",
                )
            )
        else:
            wanted.append(
                (("summarize", "summarize_chunks"), f"{profile.words} words: one summary")
            )
    return wanted


def plan_next_steps(message: str, document: str | None = None) -> dict[str, Any]:
    """The next plan for the planning prompt's user ``message`` (a dict shaped as ``Plan``).

    ``document`` overrides the ``<document>`` block (the engine passes the text it
    already extracted).
    """
    from eightflow.embedded.engine import extract_document

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
    wanted = wanted_steps(profile, long=profile.long or cut)

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
        return {
            "rationale": f"{seen}: nothing useful is left (executed: {did}).",
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
