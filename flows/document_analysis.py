"""The seed's document-analysis workflow, and its deployable flow.

The class is the seed's sample almost verbatim: summarization, then topics from the
summary; sentiment and entities in parallel with both; compilation at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from eightflow import (
    Context,
    Criterion,
    ModelTemporaryError,
    ParallelStep,
    Recovery,
    RetryPolicy,
    Step,
    StepResult,
    Workflow,
    WorkflowDefinition,
    WorkflowError,
    WorkflowResult,
)
from eightflow.sanitize import sanitize_text
from tasks.analysis import steps
from tasks.analysis.compile import compile_results
from tasks.analysis.schemas import Entities
from tasks.loading import load_document


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
        )

    # Handlers: the steps live in tasks.analysis.steps, which chunk long documents.

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
        return {"document": load_document(Path(path))}

    def result_row(self, result: WorkflowResult) -> dict[str, Any]:
        """The results.csv columns of this workflow."""
        out = result.outputs
        sentiment, entities = out["sentiment"], out["entities"]
        return {
            "summary": sanitize_text(out["summary"], limit=None),
            "topics": "; ".join(out["topics"]),
            "sentiment_label": sentiment.label,
            "sentiment_score": sentiment.score,
            "entities": "; ".join(f"{e.text} ({e.type})" for e in entities.entities),
        }


class DocumentAnalysisParams(BaseModel):
    """What the UI's run form asks for."""

    path: str = Field(description="A .txt, .md, .html, .pdf or .docx file to analyse.")
    model: str | None = Field(
        default=None,
        description="litellm model string, e.g. openai/gpt-4o-mini; empty uses EIGHTFLOW_MODEL "
        "or the embedded offline model.",
    )


@flow(name="document-analysis", log_prints=True)
async def document_analysis(params: DocumentAnalysisParams) -> dict[str, Any]:
    """Analyse one document; the run's report and trace are published as artifacts."""
    workflow = DocumentAnalysisWorkflow(model=params.model)
    result = await workflow.execute(
        raise_on_failure=True, **DocumentAnalysisWorkflow.inputs_from_path(params.path)
    )
    return {"run_id": result.run_id, "status": result.status, "cost_usd": result.cost_usd}
