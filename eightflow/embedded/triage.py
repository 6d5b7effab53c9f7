"""Embedded answers for the triage prompts: action items, legal classification, FAQ pairs.

Each function returns the JSON a real model would have been asked for (the shapes of
``eightflow_app.tasks.triage.schemas``), found by rules over the document's lines:

* ``action_items``: the bullets of an "Action items" / "Next steps" / "To do" section, and
  anywhere the lines marked ``ACTION:``, ``TODO:`` or ``[ ]``. The owner comes from
  ``owner: Name``, ``@name`` or a leading ``Name to ...`` / ``Name will ...``; the due date
  from ``by``/``before``/``due`` followed by a date, a weekday or "end of the week".
* ``legal_classification``: the legal cue counts of :mod:`eightflow.embedded.profile`; the
  kind with most cues wins, and any legal kind means the deep analysis can be skipped.
* ``faq_extraction``: question lines (ending in '?', or ``Q:``) and the lines under them
  up to the next question or heading (an ``A:`` prefix is dropped).
"""

from __future__ import annotations

import re
from typing import Any

from eightflow.embedded.lexicon import MONTHS, WEEKDAYS
from eightflow.embedded.profile import find_tables, legal_scores

__all__ = ["classify_legal_text", "extract_action_items", "extract_faq_pairs"]

_ORD = r"(?:st|nd|rd|th)?"
_DATE = (
    r"(?:\d{4}-\d{2}-\d{2}"
    rf"|(?:(?:{WEEKDAYS}),?\s+)?(?:the\s+)?\d{{1,2}}{_ORD}(?:\s+of)?\s+(?:{MONTHS})\b\.?(?:,?\s+\d{{4}})?"
    rf"|(?:(?:{WEEKDAYS}),?\s+)?(?:{MONTHS})\b\.?\s+\d{{1,2}}{_ORD}\b(?:,?\s+\d{{4}})?"
    rf"|(?:next\s+|this\s+)?(?:{WEEKDAYS})\b"
    r"|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:day|week|month|quarter|year|sprint)"
    r"|next\s+(?:week|month|quarter)|tomorrow|today|EOD|EOW"
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?)"
)
_DUE = re.compile(
    r"[,;(]?\s*\b(?:by|before|due(?:\s+(?:by|on))?|no later than|until)\s*:?\s+"
    rf"(?P<due>{_DATE})\)?",
    re.IGNORECASE,
)
_NAME = r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?"
_EXPLICIT_OWNER = re.compile(
    rf"[,;(]?\s*\b(?:owner|assignee|assigned to|lead)\s*[:=]?\s*(?P<owner>{_NAME})\)?",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"@(?P<owner>[A-Za-z][\w.-]*[\w])")
_LEAD = re.compile(
    rf"^(?P<owner>{_NAME}(?:\s+(?:and|&)\s+{_NAME})?)\s*(?::|\s+(?:to|will|should|must|"
    r"agreed to|needs to|is to|has to))\s+(?P<rest>.+)$"
)
_NOT_OWNERS = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "it",
        "we",
        "they",
        "everyone",
        "someone",
        "nobody",
        "all",
        "team",
        "action",
        "todo",
        "next",
        "decision",
        "decisions",
        "note",
        "notes",
    ]
)
_SECTION = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\d+[.)]?\s+)?(?:\*\*|__)?(?:action items?|actions|next steps|to-?dos?|"
    r"follow[- ]ups?)(?:\*\*|__)?\s*:?\s*(?:\*\*|__)?\s*$",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
_ITEM = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+(?:\[[ xX]?\]\s*)?(?P<text>.+)$")
_MARKED = re.compile(
    r"^\s*(?:[-*•+]\s*)?(?:\*\*|__)?(?:action(?: item)?|todo|to-do)(?:\*\*|__)?\s*[:\-–]\s*"
    r"(?:\*\*|__)?\s*(?P<text>.+)$",
    re.IGNORECASE,
)
_CHECKBOX = re.compile(r"^\s*[-*]\s*\[\s?\]\s+(?P<text>.+)$")


def _clean(text: str) -> str:
    text = re.sub(r"\(\s*[,;]?\s*\)", "", text)
    text = re.sub(r"\s+", " ", text).strip(" .;,:-–—*_")
    return text[:1].upper() + text[1:] if text else text


def _action(line: str) -> dict[str, Any] | None:
    text = line.strip()
    marked = _MARKED.match(text)
    if marked:
        text = marked.group("text")
    text = text.strip("*_ ").strip()
    owner: str | None = None
    due: str | None = None
    found = _EXPLICIT_OWNER.search(text)
    if found:
        owner = found.group("owner")
        text = text[: found.start()] + text[found.end() :]
    found_due = _DUE.search(text)
    if found_due:
        due = found_due.group("due").strip().rstrip(".")
        text = text[: found_due.start()] + text[found_due.end() :]
    if owner is None:
        handle = _HANDLE.search(text)
        if handle:
            owner = handle.group("owner")
            text = text[: handle.start()] + text[handle.end() :]
    if owner is None:
        lead = _LEAD.match(text.strip())
        if lead and lead.group("owner").split()[0].lower() not in _NOT_OWNERS:
            owner = lead.group("owner")
            text = lead.group("rest")
    action = _clean(text)
    if len(action.split()) < 2:
        return None
    return {"action": action, "owner": owner, "due": due}


_ACTION_COLUMN = re.compile(r"^(?:actions?|tasks?|to-?dos?|action items?|milestones?)$", re.I)
_OWNER_COLUMN = re.compile(r"^(?:owners?|who|responsible|assignee|lead)$", re.I)
_DUE_COLUMN = re.compile(r"^(?:due(?: date)?|deadline|by|when|(?:target )?date)$", re.I)


def _column(columns: list[str], pattern: re.Pattern[str]) -> int | None:
    return next((i for i, c in enumerate(columns) if pattern.match(c.strip("*_ "))), None)


def _table_actions(text: str) -> list[dict[str, Any]]:
    """Rows of tables with an action (or task, milestone) column and an owner column."""
    items = []
    for table in find_tables(text):
        columns = table["columns"]
        action, owner = _column(columns, _ACTION_COLUMN), _column(columns, _OWNER_COLUMN)
        if action is None or owner is None:
            continue
        due = _column(columns, _DUE_COLUMN)
        for row in table["rows"]:
            if len(row) != len(columns) or not row[action]:
                continue
            items.append(
                {
                    "action": _clean(row[action]),
                    "owner": row[owner] or None,
                    "due": (row[due] or None) if due is not None else None,
                }
            )
    return items


def extract_action_items(text: str) -> dict[str, Any]:
    """``{"items": [{"action", "owner", "due"}, ...]}`` in document order, without repeats.

    Bulleted and marked lines come first, then the rows of action tables.
    """
    lines = (text or "").splitlines()
    candidates: list[str] = []
    in_section = False
    for line in lines:
        if _SECTION.match(line):
            in_section = True
            continue
        if in_section:
            item = _ITEM.match(line)
            if item:
                candidates.append(item.group("text"))
                continue
            if line.strip():
                in_section = False
        marked = _MARKED.match(line) or _CHECKBOX.match(line)
        if marked:
            candidates.append(marked.group("text"))
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    found = [_action(c) for c in candidates] + _table_actions(text)
    for action in found:
        if action is None or action["action"].lower() in seen:
            continue
        seen.add(action["action"].lower())
        items.append(action)
    return {"items": items}


def classify_legal_text(text: str) -> dict[str, Any]:
    """``{"kind", "confidence", "skip_deep_analysis"}`` from the legal cue counts."""
    scores = legal_scores(text or "")
    total = sum(scores.values())
    if total < 3:
        return {"kind": "other", "confidence": round(1 - total / 3, 2), "skip_deep_analysis": False}
    kind = max(scores, key=lambda k: scores[k])
    confidence = round(scores[kind] / total * min(1.0, total / 8), 2)
    return {"kind": kind, "confidence": confidence, "skip_deep_analysis": True}


_QUESTION_PREFIX = re.compile(
    r"^\s*(?:#{1,6}\s*|[-*•]\s+|\d+[.)]\s+)*(?:\*\*|__)?\s*(?:Q\s*[:.]\s*)?"
)
_Q_LINE = re.compile(r"^\s*(?:[-*•]\s+)?(?:\*\*|__)?Q\s*[:.]", re.IGNORECASE)
_ANSWER_PREFIX = re.compile(r"^\s*(?:\*\*|__)?A\s*[:.]\s*(?:\*\*|__)?\s*", re.IGNORECASE)


def _question(line: str) -> str | None:
    bare = line.strip().rstrip("*_ ").strip()
    if not (bare.endswith("?") or _Q_LINE.match(line)):
        return None
    question = _QUESTION_PREFIX.sub("", line).strip().strip("*_ ").strip()
    return question if len(question.split()) >= 2 else None


def extract_faq_pairs(text: str) -> dict[str, Any]:
    """``{"pairs": [{"question", "answer"}, ...]}``; questions without an answer are left out."""
    pairs: list[dict[str, str]] = []
    question: str | None = None
    answer: list[str] = []

    def close() -> None:
        if question and answer:
            pairs.append({"question": question, "answer": " ".join(answer)})

    for line in (text or "").splitlines():
        asked = _question(line)
        if asked is not None:
            close()
            question, answer = asked, []
            continue
        if _HEADING.match(line):
            close()
            question, answer = None, []
            continue
        if question is not None and line.strip():
            part = _ANSWER_PREFIX.sub("", line.strip()).strip()
            if part:
                answer.append(part)
    close()
    return {"pairs": pairs}
