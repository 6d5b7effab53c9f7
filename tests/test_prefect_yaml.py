"""``prefect.yaml``: the batch deployments' parameters are valid flow parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flows.batch_documents import BatchParams, batch_documents

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
        batch_documents.validate_parameters(deployment["parameters"])  # flat and valid
    params = BatchParams.model_validate(found["nightly-batch-api"]["parameters"])
    assert params.mode == "batch-api"
    assert found["nightly-batch-api"]["schedules"][0]["cron"]
