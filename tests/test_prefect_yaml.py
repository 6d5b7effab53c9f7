"""``prefect.yaml``: the batch deployments' parameters are valid flow parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flows.batch_documents import BatchParams

REPO = Path(__file__).resolve().parents[1]


def deployments() -> dict[str, dict[str, Any]]:
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    return {
        d["name"]: d
        for d in spec["deployments"]
        if d["entrypoint"] == "flows/batch_documents.py:batch_documents"
    }


def test_nightly_batch_api_runs_the_batch_flow_through_the_batch_api() -> None:
    found = deployments()
    assert {"nightly", "nightly-batch-api"} <= set(found)
    for deployment in found.values():
        raw = deployment["parameters"]
        BatchParams.model_validate(raw.get("params", raw))  # nested or flat parameters
    raw = found["nightly-batch-api"]["parameters"]
    params = BatchParams.model_validate(raw.get("params", raw))
    assert params.mode == "batch-api"
    assert found["nightly-batch-api"]["schedules"][0]["cron"]
