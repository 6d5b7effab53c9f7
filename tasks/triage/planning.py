"""Document triage's planning rules, which the embedded planner plans by offline.

By the document's profile the triage workflow wants:

* a non-English document: ``flag_language``, and no deep analysis;
* legal or licence text: ``classify_legal`` only;
* an FAQ: ``extract_faq`` (and a summary);
* meeting notes: ``extract_actions`` (and a summary);
* tables anywhere: ``extract_tables`` (a mostly tabular file gets nothing else);
* otherwise a summary: ``summarize_chunks`` when long, ``summarize`` when not, each the
  other's stand-in when the registry lacks it.

The engine knows none of these names: ``flows/document_triage.py`` installs
:data:`TRIAGE_PLANNING_RULES` with :func:`eightflow.embedded.planner.use_planning_rules`.
"""

from __future__ import annotations

from typing import Any

from eightflow.embedded.planner import PLANNER_DOCUMENT_CHARS, PlanningRules, WantedSteps
from eightflow.embedded.profile import LANGUAGE_NAMES, Profile

# The step types the rules know, with their inputs and outputs, for a message without a registry.
DEFAULT_REGISTRY: dict[str, dict[str, Any]] = {
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


def wanted_steps(profile: Profile, long: bool | None = None) -> WantedSteps:
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
    wanted: WantedSteps = []
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


TRIAGE_PLANNING_RULES = PlanningRules(wanted=wanted_steps, default_registry=DEFAULT_REGISTRY)
