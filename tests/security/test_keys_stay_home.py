"""Attack: a Run form sends the provider key (and every document) to a URL it chose, and
its answers are cached and served to legitimate runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from eightflow_app.flows.batch_documents import batch_documents
from eightflow_app.flows.document_analysis import document_analysis
from eightflow_app.flows.document_triage import document_triage_flow
from prefect.exceptions import ParameterTypeError, SignatureMismatchError

from eightflow import Context, Step, StepResult, Workflow, WorkflowDefinition

KEY = "sk-test-stayhome-" + "k" * 32
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample.md"


class Listener:
    """An OpenAI-compatible endpoint that records every request's headers."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                seen.append({k.lower(): v for k, v in self.headers.items()})
                body = json.dumps(
                    {
                        "id": "x",
                        "object": "chat.completion",
                        "created": 0,
                        "model": "gpt-4o-mini",
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": "hello"},
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def carried_key(self) -> bool:
        return any(KEY in " ".join(r.values()) for r in self.requests)


@pytest.fixture
def listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for name in ("EIGHTFLOW_API_BASE", "EIGHTFLOW_ALLOWED_API_BASES", "OPENAI_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("EIGHTFLOW_ALLOWED_MODELS", raising=False)
    server = Listener()
    server.thread.start()
    yield server
    server.server.shutdown()


FORMS = [document_analysis, document_triage_flow]


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_a_run_form_cannot_name_a_base_url(form: Any, listener: Listener) -> None:
    with pytest.raises(SignatureMismatchError):
        form.validate_parameters({"path": str(SAMPLE), "api_base": listener.api_base})
    with pytest.raises(SignatureMismatchError):
        batch_documents.validate_parameters({"api_base": listener.api_base})
    assert listener.requests == []


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "hosted_vllm/evil", "anything"])
def test_a_run_form_picks_models_from_the_operators_list(model: str, listener: Listener) -> None:
    with pytest.raises(ParameterTypeError, match="EIGHTFLOW_ALLOWED_MODELS"):
        document_analysis.validate_parameters({"path": str(SAMPLE), "model": model})


@pytest.mark.prefect
async def test_a_submitted_run_pointing_at_the_listener_is_refused(listener: Listener) -> None:
    """The run as the API would start it: refused, and the listener hears nothing."""
    state = await document_analysis(path=str(SAMPLE), model="openai/gpt-4o-mini", return_state=True)
    assert state.is_failed()
    assert "not allowed" in (state.message or "")
    assert listener.requests == []


class Ask(Workflow):
    def define(self) -> WorkflowDefinition:
        return WorkflowDefinition(name="ask_listener", steps=[Step(name="ask", handler=self.ask)])

    async def ask(self, context: Context) -> StepResult:
        return StepResult(answer=await self.model.generate("sentiment", "a calm day"))


@pytest.mark.prefect
async def test_a_stored_key_goes_only_to_the_configured_base(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A base set in code but not by the operator: the request goes out without the key.
    await Ask(model="openai/gpt-4o-mini", api_base=listener.api_base).execute(
        raise_on_failure=False
    )
    assert listener.requests, "the listener was never called"
    assert not listener.carried_key()
    # The same base configured by the operator: now (and only now) the key travels.
    listener.requests.clear()
    monkeypatch.setenv("EIGHTFLOW_API_BASE", listener.api_base)
    await Ask(model="openai/gpt-4o-mini").execute(raise_on_failure=False)
    assert listener.carried_key()


def test_request_cache_key_includes_the_base_url() -> None:
    from eightflow.gateway.request import _cache_key
    from eightflow.prompts import PromptRegistry

    prompt = PromptRegistry().get("sentiment")
    messages = prompt.render("text")
    keys = {
        _cache_key(prompt, "openai/gpt-4o-mini", {}, messages, base)
        for base in (None, "http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1")
    }
    assert len(keys) == 3


def test_outcome_cache_key_includes_the_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from eightflow_app.flows.document_analysis import DocumentAnalysisWorkflow

    from eightflow.batch import BatchOptions, BatchRunner

    def key(base: str | None) -> str:
        wf = DocumentAnalysisWorkflow(api_base=base)
        runner = BatchRunner(wf, BatchOptions(), iter(()), ROOT, loader=lambda p, b: None)
        return runner.outcome_key("abc")

    assert len({key(None), key("http://127.0.0.1:1/v1"), key("http://127.0.0.1:2/v1")}) == 3
