"""The runtime: context, step executor, budget, limiter, run records."""
