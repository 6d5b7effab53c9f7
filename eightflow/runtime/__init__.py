"""Run-time state of one workflow run: budget, limiter, context, records and the step executor."""
