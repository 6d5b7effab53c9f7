"""Document triage: a model plans, per document, which analyses are worth running.

The registry offers seven step types: two summarizers (one call, or chunk by chunk for
long documents), table extraction, action items, a language flag, legal classification
and FAQ pairs. Each round the planner (prompt ``workflow_planning``) sees the registry,
what has run and the document, and picks the next steps; offline, the embedded model
plans by rules on the document's kind, length, structure and language, so an FAQ, a
licence, a French memo and a CSV each get a different plan. ``result_row`` flattens the
outcome into the columns of a batch's results table.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from eightflow_app.tasks.analysis import steps as analysis
from eightflow_app.tasks.loading.sandbox import sandboxed_load_document
from eightflow_app.tasks.triage import steps
from eightflow_app.tasks.triage.features import profile_document
from eightflow_app.tasks.triage.planning import TRIAGE_PLANNING_RULES
from pydantic import BaseModel

from eightflow import Context, RetryPolicy, ReviewRule, StepResult, WorkflowResult
from eightflow.compiler.flows import flow
from eightflow.embedded.planner import use_planning_rules
from eightflow.planning.dynamic import DynamicWorkflow, StepType
from eightflow.safety.form_types import AllowedModel, ReadablePath, default_model_choice
from eightflow.safety.sanitize import sanitize_text

# Offline, the embedded model plans this workflow by its own rules.
use_planning_rules(TRIAGE_PLANNING_RULES)

_PROMPTS: dict[str, tuple[str, ...]] = {
    "summarize": ("summarization",),
    "summarize_chunks": ("summarization",),
    "extract_actions": ("action_items",),
    "classify_legal": ("legal_classification",),
    "extract_faq": ("faq_extraction",),
}

#: The shipped review rules: a person checks a language or legal classification the model
#: is unsure of, when the planner chose that step. Off by default; ``--review-below X``
#: turns them on at X. Unanswered within the hour, a single run goes on with the output.
TRIAGE_REVIEW = (
    ReviewRule(
        name="language_confidence",
        step="flag_language",
        output="language",
        confidence_below=0.7,
        on_timeout="approve",
        enabled=False,
    ),
    ReviewRule(
        name="legal_confidence",
        step="classify_legal",
        output="legal",
        confidence_below=0.7,
        on_timeout="approve",
        enabled=False,
    ),
)


class DocumentTriageWorkflow(DynamicWorkflow):
    """Per document, a planner picks the analyses that fit it; the steps run as tasks."""

    name = "document_triage"
    max_iterations = 4
    max_steps = 8
    review_rules = TRIAGE_REVIEW

    def step_types(self) -> list[StepType]:
        model_retry = RetryPolicy.exponential(max_attempts=3)
        kinds = [
            StepType(
                name="summarize",
                description="A short summary with key points, for a document of up to about "
                "1,500 words.",
                inputs=("document",),
                outputs=("summary", "key_points"),
                handler=self.summarize,
                retry_policy=model_retry,
            ),
            StepType(
                name="summarize_chunks",
                description="A summary of a long document (over about 1,500 words): it is cut "
                "into chunks, each chunk summarized, and the summaries summarized again. Use "
                "it instead of summarize for long documents.",
                inputs=("document",),
                outputs=("summary", "key_points"),
                handler=self.summarize_chunks,
                retry_policy=model_retry,
            ),
            StepType(
                name="extract_tables",
                description="The tables of a document as columns and rows: CSV or TSV data, "
                "Markdown pipe tables, and HTML or spreadsheet tables rendered as 'a | b' "
                "rows. No model call.",
                inputs=("document",),
                outputs=("tables",),
                handler=self.extract_tables,
            ),
            StepType(
                name="extract_actions",
                description="The action items of meeting notes, each with its owner and due date.",
                inputs=("document",),
                outputs=("action_items",),
                handler=self.extract_actions,
                retry_policy=model_retry,
            ),
            StepType(
                name="flag_language",
                description="The document's language (code, confidence, whether it is "
                "English). Documents not in English get this and no deep analysis. No model "
                "call.",
                inputs=("document",),
                outputs=("language",),
                handler=self.flag_language,
            ),
            StepType(
                name="classify_legal",
                description="For legal or licence text: its kind (licence, contract, policy, "
                "terms) and whether to skip the deep analysis, which legal text does not need.",
                inputs=("document",),
                outputs=("legal",),
                handler=self.classify_legal,
                retry_policy=model_retry,
            ),
            StepType(
                name="extract_faq",
                description="The question-and-answer pairs of an FAQ.",
                inputs=("document",),
                outputs=("faq",),
                handler=self.extract_faq,
                retry_policy=model_retry,
            ),
        ]
        return [k.model_copy(update={"prompts": _PROMPTS.get(k.name, ())}) for k in kinds]

    # -- handlers --------------------------------------------------------------------------

    async def summarize(self, context: Context) -> StepResult:
        summary = await analysis.summarize(self.model, self.prompts, context.document)
        return StepResult(summary=summary.summary, key_points=summary.key_points)

    async def summarize_chunks(self, context: Context) -> StepResult:
        summary = await steps.summarize_in_chunks(self.model, self.prompts, context.document)
        return StepResult(summary=summary.summary, key_points=summary.key_points)

    def extract_tables(self, context: Context) -> StepResult:
        return StepResult(tables=steps.extract_tables(context.document))

    def flag_language(self, context: Context) -> StepResult:
        return StepResult(language=steps.flag_language(context.document))

    async def extract_actions(self, context: Context) -> StepResult:
        items = await steps.extract_actions(self.model, self.prompts, context.document)
        return StepResult(action_items=items)

    async def classify_legal(self, context: Context) -> StepResult:
        legal = await steps.classify_legal(self.model, self.prompts, context.document)
        return StepResult(legal=legal)

    async def extract_faq(self, context: Context) -> StepResult:
        pairs = await steps.extract_faq(self.model, self.prompts, context.document)
        return StepResult(faq=pairs)

    # -- results ---------------------------------------------------------------------------

    def create_result(self, context: Context) -> dict[str, Any]:
        """The steps' outputs, plus the document's profile (kind, words, language...)."""
        outputs = super().create_result(context)
        outputs["profile"] = profile_document(str(context.get("document") or "")).to_dict()
        return outputs

    @classmethod
    def inputs_from_path(cls, path: str) -> dict[str, Any]:
        """The document, through the one loader door (the sandbox, with its limits)."""
        return {"document": sandboxed_load_document(Path(path))}

    def result_row(self, result: WorkflowResult) -> dict[str, Any]:
        """The results.csv columns of this workflow (empty cells for steps not run)."""
        out = result.outputs
        profile = out.get("profile") or {}
        language = _plain(out.get("language"))
        legal = _plain(out.get("legal"))
        tables = [_plain(t) for t in out.get("tables") or []]
        actions = [_plain(a) for a in out.get("action_items") or []]
        faq = [_plain(p) for p in out.get("faq") or []]
        executed = [a for r in result.planning or [] for a in r.get("accepted", [])]
        return {
            "kind": profile.get("kind", ""),
            "words": profile.get("words", 0),
            "language": language.get("code") or profile.get("language", ""),
            "steps_run": "; ".join(
                executed or [s.name for s in result.steps if not s.name.startswith("plan-")]
            ),
            "planning_rounds": len(result.planning or []),
            "summary": sanitize_text(out.get("summary") or "", limit=None),
            "tables": "; ".join(
                f"{len(t['rows'])} rows × {', '.join(t['columns'])}" for t in tables
            ),
            "action_items": "; ".join(_action_text(a) for a in actions),
            "faq_pairs": len(faq),
            "legal_class": legal.get("kind", ""),
            "deep_analysis_skipped": bool(
                legal.get("skip_deep_analysis") or language.get("english") is False
            ),
        }


def _plain(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, BaseModel):
        return value.model_dump()
    return dict(value) if isinstance(value, dict) else {}


def _action_text(item: dict[str, Any]) -> str:
    who = ", ".join(
        p for p in (item.get("owner"), f"due {item['due']}" if item.get("due") else None) if p
    )
    return f"{item.get('action', '')}" + (f" ({who})" if who else "")


#: One document's run: loading (within the loader's own limit), planning rounds and steps.
ADHOC_TIMEOUT_S = 1800


@flow(name="document-triage", log_prints=True, timeout_seconds=ADHOC_TIMEOUT_S)
async def document_triage_flow(
    path: ReadablePath, model: AllowedModel = default_model_choice()
) -> dict[str, Any]:
    """Triage one document: plan, run the planned steps, publish the planning trace.

    Args:
        path: A .txt, .md, .html, .csv, .tsv, .pdf or .docx file to triage, inside the data
            roots (EIGHTFLOW_DATA_ROOTS).
        model: A model from the operator's list (EIGHTFLOW_ALLOWED_MODELS); preselected:
            EIGHTFLOW_MODEL or the embedded offline model (which plans by rules).
    """
    workflow = DocumentTriageWorkflow(model=model or None)
    inputs = await asyncio.to_thread(DocumentTriageWorkflow.inputs_from_path, path)
    result = await workflow.execute(raise_on_failure=True, **inputs)
    steps_run = [a for r in result.planning or [] for a in r.get("accepted", [])]
    return {
        "run_id": result.run_id,
        "status": result.status,
        "steps_run": steps_run,
        "cost_usd": result.cost_usd,
    }
