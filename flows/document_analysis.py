"""The seed's document-analysis workflow, and its deployable flow.

The class is the seed's sample almost verbatim: summarization, then topics from the
summary; sentiment and entities in parallel with both; compilation at the end.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from eightflow_app.tasks.analysis import steps
from eightflow_app.tasks.analysis.compile import compile_results
from eightflow_app.tasks.analysis.schemas import Entities, Sentiment
from eightflow_app.tasks.loading.sandbox import sandboxed_load_document
from pydantic import Field

from eightflow import (
    Context,
    Criterion,
    ModelTemporaryError,
    ParallelStep,
    Recovery,
    RetryPolicy,
    ReviewRule,
    Step,
    StepResult,
    Workflow,
    WorkflowDefinition,
    WorkflowError,
    WorkflowResult,
)
from eightflow.compiler.flows import flow
from eightflow.pipeline.run import flow_return
from eightflow.safety.form_types import AllowedModel, ReadablePath, default_model_choice
from eightflow.safety.sanitize import sanitize_text

#: The shipped review rule: a person checks a sentiment the model is unsure of. Off by
#: default; ``--review-below X`` (or the flow parameter ``review_below``) turns it on at X.
SENTIMENT_REVIEW = ReviewRule(
    name="sentiment_confidence",
    step="sentiment",
    output="sentiment",
    confidence_below=0.7,
    output_schema=Sentiment,
    editable=("label", "score"),
    timeout_seconds=3600,
    on_timeout="approve",
    enabled=False,
)


class DocumentAnalysisWorkflow(Workflow):
    """Summary, topics, sentiment and entities of one document."""

    name = "document_analysis"

    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(
            name="document_analysis",
            description="Summary, topics, sentiment and entities of one document.",
            steps=[
                Step(
                    name="summarization",
                    handler=self.summarize,
                    retry_policy=RetryPolicy.exponential(max_attempts=3),
                    prompts=["summarization"],
                ),
                Step(
                    name="topic_extraction",
                    handler=self.extract_topics,
                    depends_on=["summarization"],
                    retry_policy=RetryPolicy.exponential(max_attempts=3),
                    prompts=["topic_extraction"],
                ),
                Step(
                    name="parallel_analysis",
                    handler=ParallelStep(
                        [
                            Step(
                                name="sentiment",
                                handler=self.analyze_sentiment,
                                retry_policy=RetryPolicy.exponential(max_attempts=3),
                                prompts=["sentiment"],
                            ),
                            Step(
                                name="entities",
                                handler=self.extract_entities,
                                retry_policy=RetryPolicy.exponential(max_attempts=3),
                                prompts=["entities"],
                            ),
                        ]
                    ),
                ),
                Step(
                    name="compilation",
                    handler=self.compile_results,
                    depends_on=["topic_extraction", "parallel_analysis"],
                ),
            ],
            on_failure=self.handle_failure,
            success_criteria=[
                Criterion.non_empty("summary", "topics"),
                Criterion.matches_schema("entities", Entities),
            ],
            review=[SENTIMENT_REVIEW],
        )

    # Handlers: the steps live in eightflow_app.tasks.analysis.steps, which chunk long documents.

    async def summarize(self, context: Context) -> StepResult:
        summary = await steps.summarize(self.model, self.prompts, context.document)
        return StepResult(summary=summary.summary, key_points=summary.key_points)

    async def extract_topics(self, context: Context) -> StepResult:
        topics = await steps.extract_topics(self.model, self.prompts, context.summary)
        return StepResult(topics=topics.topics, keyphrases=topics.keyphrases)

    async def analyze_sentiment(self, context: Context) -> StepResult:
        sentiment = await steps.analyze_sentiment(self.model, self.prompts, context.document)
        return StepResult(sentiment=sentiment)

    async def extract_entities(self, context: Context) -> StepResult:
        entities = await steps.extract_entities(self.model, self.prompts, context.document)
        return StepResult(entities=entities)

    async def compile_results(self, context: Context) -> StepResult:
        return StepResult(
            report=compile_results(
                context.summary, context.topics, context.sentiment, context.entities
            )
        )

    def handle_failure(self, error: WorkflowError) -> Recovery:
        if isinstance(error, ModelTemporaryError):
            return Recovery.retry()
        return Recovery.fail_workflow()

    @classmethod
    def inputs_from_path(cls, path: str) -> dict[str, Any]:
        """The document, through the one loader door (the sandbox, with its limits)."""
        return {"document": sandboxed_load_document(Path(path))}

    def result_row(self, result: WorkflowResult) -> dict[str, Any]:
        """The results.csv columns of this workflow."""
        out = result.outputs
        sentiment, entities = out["sentiment"], out["entities"]
        return {
            "summary": sanitize_text(out["summary"], limit=None),
            "topics": "; ".join(out["topics"]),
            "sentiment_label": sentiment.label,
            "sentiment_score": sentiment.score,
            "sentiment_confidence": sentiment.confidence,
            "entities": "; ".join(f"{e.text} ({e.type})" for e in entities.entities),
        }

    def review_columns(self, output: str, value: Any) -> dict[str, Any]:
        if output == "sentiment" and isinstance(value, dict):
            return {
                "sentiment_label": value.get("label"),
                "sentiment_score": value.get("score"),
                "sentiment_confidence": value.get("confidence"),
            }
        if output == "entities" and isinstance(value, dict):  # an ungrounded answer, decided
            found = value.get("entities") or []
            return {"entities": "; ".join(f"{e.get('text')} ({e.get('type')})" for e in found)}
        return super().review_columns(output, value)


#: One document's run: loading (within the loader's own limit), the model calls and their
#: retries. A run that waits for a person's review may wait that rule's timeout on top.
ADHOC_TIMEOUT_S = 1800


@flow(
    name="document-analysis",
    log_prints=True,
    timeout_seconds=ADHOC_TIMEOUT_S + SENTIMENT_REVIEW.timeout_seconds,
)
async def document_analysis(
    path: ReadablePath,
    model: AllowedModel = default_model_choice(),
    review_below: Annotated[float, Field(ge=0, le=1)] = 0,
) -> Any:
    """Analyse one document; the run's report and trace are published as artifacts.

    Args:
        path: A .txt, .md, .html, .pdf or .docx file to analyse, inside the data roots
            (EIGHTFLOW_DATA_ROOTS).
        model: A model from the operator's list (EIGHTFLOW_ALLOWED_MODELS); preselected:
            EIGHTFLOW_MODEL or the embedded offline model.
        review_below: A sentiment whose confidence is below this (0 to 1) pauses the run for
            a person's decision (a form in the UI, or `eightflow review decide`); 0: no review.
    """
    workflow = DocumentAnalysisWorkflow(model=model or None, review_below=review_below or None)
    inputs = await asyncio.to_thread(DocumentAnalysisWorkflow.inputs_from_path, path)
    result = await workflow.execute(raise_on_failure=False, **inputs)
    return flow_return(result)  # a failed run fails; one waiting for review says so
