"""Reusable Prefect tasks and the step code behind them.

``eightflow_app.tasks.prefect_tasks`` holds ``@task`` units for your own flows (load,
summarize, topics, sentiment, entities, publish); ``loading``, ``analysis``, ``triage``,
``chunking`` and ``publishing`` hold the plain functions the shipped workflows' steps call.
"""
