"""The embedded default model: one entry point over the offline tasks.

When no API key is configured, eightflow's gateway routes model calls to a local provider
backed by this engine. The gateway knows the prompt and the requested output schema; the
engine only needs to know which task to run, on which text. ``extract_document`` pulls the
text out of the prompt, ``infer_task`` guesses the task from the output schema's name when
the caller did not say, and ``EmbeddedModel.respond`` returns a dict shaped like the JSON a
real LLM would have been asked for. Besides the four analysis tasks (:data:`TASKS`) it
answers the triage prompts (:data:`TRIAGE_TASKS`): ``workflow_planning`` by the rules of
:mod:`eightflow.embedded.planner`, which needs the whole user message (``params["message"]``:
the registry and state blocks as well as the document), and ``action_items``,
``legal_classification`` and ``faq_extraction`` by those of :mod:`eightflow.embedded.triage`.
Nothing here imports litellm or prefect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from eightflow.embedded.confidence import with_confidence
from eightflow.embedded.entities import extract_entities
from eightflow.embedded.keyphrases import extract_topics
from eightflow.embedded.planner import plan_next_steps
from eightflow.embedded.sentiment import analyze_sentiment
from eightflow.embedded.summarize import summarize
from eightflow.embedded.triage import (
    classify_legal_text,
    extract_action_items,
    extract_faq_pairs,
)

__all__ = [
    "ALL_TASKS",
    "TASKS",
    "TRIAGE_TASKS",
    "EmbeddedModel",
    "UnknownTaskError",
    "extract_document",
    "infer_task",
]

TASKS: tuple[str, ...] = ("summarization", "topic_extraction", "sentiment", "entities")
"""The four analysis tasks."""
TRIAGE_TASKS: tuple[str, ...] = (
    "workflow_planning",
    "action_items",
    "legal_classification",
    "faq_extraction",
)
"""The document-triage prompts: the planner and its three rule-based extractors."""
ALL_TASKS: tuple[str, ...] = TASKS + TRIAGE_TASKS

# Name fragments that identify a task, checked on the lowercased alphanumerics of a
# schema title or task name ("SummaryOutput" -> "summaryoutput").
_TASK_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("summarization", ("summar",)),
    ("topic_extraction", ("topic", "keyphrase", "keyword")),
    ("sentiment", ("sentiment",)),
    ("entities", ("entit",)),
    ("workflow_planning", ("workflowplan",)),
    ("action_items", ("actionitem",)),
    ("legal_classification", ("legalclass",)),
    ("faq_extraction", ("faq",)),
)
_DOCUMENT_RE = re.compile(r"<document\b[^>]*>(.*?)</document\s*>", re.IGNORECASE | re.DOTALL)
_OPEN_TAG_RE = re.compile(r"<document\b[^>]*>", re.IGNORECASE)


class UnknownTaskError(ValueError):
    """Raised for a task the embedded model cannot do; the message lists those it can."""

    def __init__(self, task: object) -> None:
        self.task = task
        super().__init__(
            f"the embedded model has no task {task!r}; supported tasks: {', '.join(ALL_TASKS)}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Prefect pickles task failures; rebuild from the task, not from the message.
        return (type(self), (self.task,))


def infer_task(schema_title_or_name: str | None) -> str | None:
    """Map a schema title or task name ("Summary", "TopicsResult") to a task, or None.

    Returns None when nothing matches or when the name hints at more than one task, so
    the caller can ask instead of guessing wrong.
    """
    if not schema_title_or_name:
        return None
    flat = re.sub(r"[^a-z0-9]", "", str(schema_title_or_name).lower())
    if flat == "ner":
        return "entities"
    if flat == "plan":
        return "workflow_planning"
    found = [task for task, hints in _TASK_HINTS if any(h in flat for h in hints)]
    return found[0] if len(found) == 1 else None


def extract_document(user_message: str) -> str:
    """The text inside the last ``<document>...</document>`` block, stripped.

    Prompts wrap the input in these tags; a message without them is the document itself.
    An opening tag without its closing tag takes everything after it.
    """
    if not user_message:
        return ""
    blocks = _DOCUMENT_RE.findall(user_message)
    if blocks:
        return str(blocks[-1]).strip()
    opened = list(_OPEN_TAG_RE.finditer(user_message))
    if opened:
        return user_message[opened[-1].end() :].strip()
    return user_message.strip()


class EmbeddedModel:
    """Deterministic, offline stand-in for an LLM on eightflow's analysis and triage tasks."""

    TASKS: ClassVar[tuple[str, ...]] = TASKS
    ALL_TASKS: ClassVar[tuple[str, ...]] = ALL_TASKS

    @staticmethod
    def infer_task(schema_title_or_name: str | None) -> str | None:
        """Same as the module-level :func:`infer_task`, for callers holding the model."""
        return infer_task(schema_title_or_name)

    def respond(
        self, task: str, text: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run ``task`` on ``text`` and return the task's JSON-shaped answer.

        ``task`` is one of :attr:`TASKS` (case-insensitive; schema-style aliases such as
        "Summary" are accepted through :func:`infer_task`). ``params`` may carry
        ``max_sentences`` (summarization) and ``top_n`` (topic extraction); invalid values
        fall back to the defaults. ``params["message"]`` is the whole user message, which
        ``workflow_planning`` reads its registry and state from (``text`` alone is taken
        as the document of a plan without them).
        """
        name = self._resolve(task)
        params = params or {}
        text = text if isinstance(text, str) else ("" if text is None else str(text))
        handlers: dict[str, Callable[[], dict[str, Any]]] = {
            "summarization": lambda: summarize(
                text, _int_param(params, "max_sentences", 3, upper=20)
            ),
            "topic_extraction": lambda: extract_topics(
                text, _int_param(params, "top_n", 5, upper=50)
            ),
            "sentiment": lambda: analyze_sentiment(text),
            "entities": lambda: extract_entities(text),
            "workflow_planning": lambda: plan_next_steps(
                str(params.get("message") or text), document=text
            ),
            "action_items": lambda: extract_action_items(text),
            "legal_classification": lambda: classify_legal_text(text),
            "faq_extraction": lambda: extract_faq_pairs(text),
        }
        return with_confidence(name, handlers[name]())

    @staticmethod
    def _resolve(task: str) -> str:
        if isinstance(task, str):
            name = task.strip().lower()
            if name in ALL_TASKS:
                return name
            inferred = infer_task(task)
            if inferred:
                return inferred
        raise UnknownTaskError(task)


def _int_param(params: Mapping[str, Any], name: str, default: int, *, upper: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, 1), upper)
