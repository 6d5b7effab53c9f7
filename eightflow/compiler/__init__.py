"""The one compiler: a workflow definition becomes a Prefect flow (task options, artifacts)."""
