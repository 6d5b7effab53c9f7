"""What one evaluation produces, whatever its kind: rows, a result, and the error type.

Every kind of labelled set (the CSV kinds of :mod:`eightflow.evaluation.csv_kinds`, the
real-document sets of :mod:`eightflow.evaluation.real_set`) returns one
:class:`EvalResult`. Its ``gated`` metrics are the ones ``--min-score`` and ``--baseline``
judge; ``metric_tasks`` says which prompt task each metric measures, so the ledger's
``evals`` table files it under that task; ``parts`` holds per-task sub-results for kinds
that score several prompts at once.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from eightflow.errors import WorkflowError

SENTIMENT_LABELS: tuple[str, ...] = ("positive", "negative", "neutral")
ENTITY_TYPES: tuple[str, ...] = (
    "person",
    "organization",
    "place",
    "date",
    "amount",
    "email",
    "url",
)
#: Entity types read from running prose, scored apart from the contact types below.
PROSE_ENTITY_TYPES: frozenset[str] = frozenset(
    {"person", "organization", "place", "date", "amount"}
)
#: Types found by their shape (``@`` or ``://``): easy, and most of the gold entities.
CONTACT_ENTITY_TYPES: frozenset[str] = frozenset({"email", "url"})
CONCURRENCY = 8
"""Model calls in flight at once during one evaluation."""


class EvaluationError(WorkflowError):
    """The dataset or the prompt cannot be evaluated; the message says why and where."""


class EvalRow(BaseModel):
    """One dataset row: what was expected, what the model answered."""

    row: int = Field(description="1-based data row (the header is row 0).")
    text: str
    expected: str | list[tuple[str, str]]
    predicted: str | list[tuple[str, str]] | None = None
    correct: bool = False
    score: float | None = Field(default=None, description="The sentiment score, if any.")
    tp: int | None = None
    fp: int | None = None
    fn: int | None = None
    error: str | None = None


class SummaryRow(BaseModel):
    """A document's summary: the key terms it lacks, its gist score and its problems."""

    file: str
    summary: str | None = None
    key_terms: list[str]
    missing: list[str] = Field(default_factory=list)
    correct: bool = Field(default=False, description="Every key term is in the summary.")
    gist: str = ""
    rouge_l: float | None = Field(default=None, description="ROUGE-L F1 against the gist.")
    problems: list[str] = Field(
        default_factory=list,
        description="What the summary checks found: length, sentences, markup, menu, code.",
    )
    error: str | None = None


class EvalResult(BaseModel):
    """The numbers of one evaluation, with every row's prediction."""

    eval_id: str
    workflow: str | None
    dataset: str
    dataset_path: str
    task: str
    prompt: str
    model: str
    rows: int
    metric: str = Field(description="The headline metric.")
    value: float | None
    metrics: dict[str, float | None]
    gated: list[str] = Field(
        default_factory=list,
        description="The metrics --min-score and --baseline judge (default: the headline).",
    )
    prompts: dict[str, str] = Field(
        default_factory=dict, description="task -> the prompt reference scored."
    )
    metric_tasks: dict[str, str] = Field(
        default_factory=dict,
        description="metric -> the role (a key of ``prompts``) it measures (default: the "
        "result's own task and prompt).",
    )
    targets: dict[str, float] = Field(default_factory=dict)
    met: dict[str, bool] = Field(default_factory=dict)
    per_label: dict[str, dict[str, float | int | None]] = Field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = Field(default_factory=dict)
    errors: int = 0
    cost_usd: float | None = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    duration_ms: float = 0.0
    predictions: list[EvalRow] = Field(default_factory=list)
    parts: dict[str, EvalResult] = Field(
        default_factory=dict, description="Per-task results of a kind that scores several."
    )
    summaries: list[SummaryRow] = Field(default_factory=list)
    reliability: dict[str, dict[str, dict[str, float | int | None]]] = Field(
        default_factory=dict,
        description="role -> confidence bucket -> count, accuracy and mean confidence of "
        "the answers in it (real-document sets, when the model reports a confidence).",
    )

    def gated_metrics(self) -> list[str]:
        """The metrics the gates judge: ``gated``, or the headline metric."""
        return list(self.gated) or [self.metric]

    def task_of(self, metric: str) -> str:
        """The task ``metric`` measures (the ledger's ``task`` column): the prompt id of
        its role, or the result's own task."""
        role = self.metric_tasks.get(metric)
        if role is None or role not in self.prompts:
            return self.task
        return self.prompts[role].partition("@")[0]

    def prompt_of(self, metric: str) -> str:
        """The prompt reference ``metric`` scored."""
        role = self.metric_tasks.get(metric)
        return self.prompts.get(role, self.prompt) if role else self.prompt
