"""No secret reaches a batch's output files, whether it came from a document or the env.

The embedded model's summaries and entities quote the document, so a key written in a
document travels into the results unless the writers sanitize it; a file error can quote
a path, so a key in a link target travels into the error column and the report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eightflow_app.flows.batch_documents import BatchParams, batch_documents
from eightflow_app.tasks.publishing import ResultsWriter

from eightflow.batch import BatchSummary, DocumentOutcome

pytestmark = pytest.mark.prefect

PATTERN_KEY = "sk-" + "Zq7" * 13 + "X"  # sk- and 40 characters: caught by its shape
ENV_KEY = "planted-Env-Value-4f9c2e7a1b"  # looks like nothing: caught only as an env value
OUTPUTS = ("results.csv", "trace.jsonl", "report.md")


def _leaky_document(index: int) -> str:
    return (
        f"Credential incident {index} at Harbour Lane Capital\n\n"
        f"The production key {PATTERN_KEY} was pasted into a ticket by Grace Kim in Lisbon. "
        f"The backup credential {ENV_KEY} was also exposed on 3 March 2025. "
        "Harbour Lane Capital rotated both keys within the hour and thanked the team.\n\n"
        f"Auditors at Bank of Avalon confirmed that {PATTERN_KEY} and {ENV_KEY} are revoked. "
        "Questions can be sent to security@example.org before the end of April.\n"
    )


async def test_secrets_never_reach_batch_outputs(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    docs = tmp_path / "docs"
    docs.mkdir()
    for index in range(3):
        (docs / f"incident-{index}.txt").write_text(_leaky_document(index))
    (docs / "leaked-link.md").symlink_to(f"keys/{PATTERN_KEY}/{ENV_KEY}.md")
    out = tmp_path / "out"

    state = await batch_documents(
        **BatchParams(folder=str(docs), out=str(out), concurrency=2).flow_parameters(),
        return_state=True,
    )
    brief = await state.result(raise_on_failure=False)
    assert (brief["completed"], brief["failed"]) == (3, 1), brief

    for name in OUTPUTS:
        text = (out / name).read_text(encoding="utf-8")
        for secret in (PATTERN_KEY, ENV_KEY):
            assert secret not in text, f"{secret} in {name}"
    frame = pd.read_parquet(out / "results.parquet")
    cells = [str(v) for v in frame.astype(str).to_numpy().ravel()]
    assert not any(PATTERN_KEY in c or ENV_KEY in c for c in cells)

    # The secrets did travel this far: they were redacted, not merely absent.
    results = (out / "results.csv").read_text(encoding="utf-8")
    rows = frame.set_index("id")
    assert "[REDACTED]" in rows.loc["incident-0.txt", "summary"]
    assert rows.loc["leaked-link.md", "error"] == "broken link to keys/[REDACTED]/[REDACTED].md"
    assert "broken link to keys/[REDACTED]/[REDACTED].md" in (out / "report.md").read_text()
    assert results.count("[REDACTED]") >= 4
    trace = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    assert len(trace) == 3 * 5 and all(line["status"] == "completed" for line in trace)


def _outcome(summary: str) -> DocumentOutcome:
    return DocumentOutcome(
        id="doc.txt", path="/doc.txt", status="completed", row={"summary": summary}
    )


def test_a_changed_secret_env_value_is_redacted_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EIGHTFLOW_TEST_API_KEY", "first-value-0a1b2c3d")
    writer = ResultsWriter(tmp_path)
    writer.write(_outcome("old key first-value-0a1b2c3d"))  # the sanitizer caches env values
    # A rotated key: same variable, so the same number of env vars, a moment later.
    monkeypatch.setenv("EIGHTFLOW_TEST_API_KEY", "second-value-4e5f6a7b")
    writer.write(_outcome("new key second-value-4e5f6a7b"))
    writer.close(BatchSummary(workflow="w", version="v"))
    results = (tmp_path / "results.csv").read_text()
    assert "first-value-0a1b2c3d" not in results
    assert "second-value-4e5f6a7b" not in results
