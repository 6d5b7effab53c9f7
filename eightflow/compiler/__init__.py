"""The one compiler: a WorkflowDefinition becomes a Prefect flow, its task options and artifacts."""
