"""Attack: a document full of secrets, analysed by a batch on the embedded model.

The summary was redacted, but the embedded model's entities listed the password of a
database URL (``Sup3rS3cretPass@db.internal``) as an email in results.csv and
results.parquet, and several key shapes passed the sanitizer. No secret of the document
may reach results.csv, results.parquet, the Prefect artifacts, trace.jsonl, report.md or
the ledger.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents

from eightflow.settings import get_settings

pytestmark = pytest.mark.prefect  # runs flows against the session's Prefect API

ZW = "\u200b"
SPLIT_KEY = "ghp_" + "Zk4Wq9Lm2Xv7" * 3  # written with a zero-width space in its middle
ENV_VALUE = "planted-Env-Value-7c3e9a1f"
SECRETS: dict[str, str] = {
    "database password": "Sup3rS3cretPass",
    "openai project key": "sk-proj-" + "Q1w2E3r4T5y6U7i8O9p0" * 2,
    "anthropic key": "sk-ant-api03-" + "Zx9Cv8Bn7Mm6" * 4,
    "aws key id": "AKIAQ3EXAMPLEKEY7Z2X",
    "bare aws secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "twilio api key": "SK" + "3f9a1c0b7e2d4a6f8b1c9d0e2f3a4b5c",
    "slack app token": "xapp-1-A0123456789-1234567890123-" + "ab12" * 16,
    "slack bot token": "xoxb-1234567890-abcdefghijklmnop",
    "notion secret": "secret_" + "N0t1onK3y" * 4 + "abcdefg",
    "discord bot token": "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123",
    "eightflow auth string": "eightflow:" + "c0ffee12" * 6,
    "basic credentials": "YWRtaW46aHVudGVyMnBhc3N3b3Jk",
    "stripe live key": "sk_live_51HxYzAbCdEfGhIjKlMnOpQr",
    "github token": "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2,
    "google api key": "AIza" + "SyD4f8Kq2Lm9Xv7Bn3Hj6Tp1Wc5Rz0Ye8Ua",
    "hugging face token": "hf_" + "QwErTyUiOp" * 4,
    "azure storage key": "Zm9vYmFyYmF6cXV4K2Rvbm90dXNl+a/b==",
    "bearer token": "abcdef123456ghijklmnop",
    "assigned password": "Tr0ub4dor-and-3",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36",
    "env value": ENV_VALUE,
}
FRAGMENTS = [*SECRETS.values(), SPLIT_KEY, SPLIT_KEY[:14], SPLIT_KEY[14:], "c0ffee12c0ffee12"]


def hostile_document(index: int) -> str:
    s = SECRETS
    return (
        f"Credential incident {index} at Harbour Lane Capital\n\n"
        f"Grace Kim in Lisbon found postgresql://admin:{s['database password']}@db.internal:5432"
        f"/ledger in a ticket. The OpenAI key {s['openai project key']} and the Anthropic key "
        f"{s['anthropic key']} were pasted beside it. The aws key {s['aws key id']} came with "
        f"its secret {s['bare aws secret']} on 3 March 2025.\n\n"
        f"Twilio {s['twilio api key']}, Slack {s['slack app token']} and {s['slack bot token']}, "
        f"Notion {s['notion secret']} and the Discord bot {s['discord bot token']} were all "
        f"exposed. The GitHub token {SPLIT_KEY[:14]}{ZW}{SPLIT_KEY[14:]} was split by an "
        f"invisible character, and {s['github token']} was not.\n\n"
        f"The server accepted {s['eightflow auth string']} and Basic {s['basic credentials']} "
        f"from Bank of Avalon. Stripe {s['stripe live key']}, Google {s['google api key']} and "
        f"Hugging Face {s['hugging face token']} keys followed. "
        f"DefaultEndpointsProtocol=https;AccountKey={s['azure storage key']};EndpointSuffix=x. "
        f"Authorization: Bearer {s['bearer token']} and password={s['assigned password']} "
        f"and the session {s['jwt']} and the backup {ENV_VALUE} are revoked.\n\n"
        "Harbour Lane Capital rotated every key within the hour and thanked the team. "
        "Questions can be sent to security@example.org before the end of April.\n"
    )


def _leaks(where: str, text: str) -> list[str]:
    return [f"{where}: {fragment}" for fragment in FRAGMENTS if fragment in text]


async def _artifacts(flow_run_id: Any) -> list[str]:
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterParentFlowRunId,
    )

    async with get_client() as client:
        children = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id])
            )
        )
        ids = [flow_run_id, *(child.id for child in children)]
        texts = []
        for run_id in ids:
            found = await client.read_artifacts(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
            )
            for artifact in found:
                data = artifact.data
                data = data if isinstance(data, str) else json.dumps(data)
                texts.append(f"{artifact.key}\n{data}\n{artifact.description or ''}")
    return texts


async def test_no_secret_of_a_hostile_document_reaches_any_output(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    monkeypatch.setenv("EIGHTFLOW_TEST_BACKUP_TOKEN", ENV_VALUE)
    docs = tmp_path / "docs"
    docs.mkdir()
    for index in range(2):
        (docs / f"incident-{index}.txt").write_text(hostile_document(index), encoding="utf-8")
    out = tmp_path / "out"

    state = await batch_documents(
        **BatchParams(folder=str(docs), out=str(out), concurrency=2).flow_parameters(),
        return_state=True,
    )
    brief = await state.result(raise_on_failure=False)
    assert brief["completed"] == 2, brief

    leaks: list[str] = []
    for name in ("results.csv", "trace.jsonl", "report.md"):
        leaks += _leaks(name, (out / name).read_text(encoding="utf-8"))
    frame = pd.read_parquet(out / "results.parquet")
    leaks += _leaks("results.parquet", "\n".join(map(str, frame.to_numpy().ravel())))
    artifacts = await _artifacts(state.state_details.flow_run_id)
    assert artifacts, "the batch published no artifacts to read back"
    for text in artifacts:
        leaks += _leaks("artifact", text)
    ledger = sqlite3.connect(str(get_settings().state_dir / "ledger.sqlite"))
    try:
        leaks += _leaks("ledger", "\n".join(ledger.iterdump()))
    finally:
        ledger.close()
    assert leaks == []

    # The secrets travelled this far: they were redacted, not merely left out, and the
    # entity that was only a password is gone, while the document's people remain.
    rows = frame.set_index("id")
    assert "[REDACTED]" in rows.loc["incident-0.txt", "summary"]
    entities = str(rows.loc["incident-0.txt", "entities"])
    assert "Grace Kim" in entities
