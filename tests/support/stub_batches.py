"""OpenAI-compatible Files and Batches endpoints for the stub server.

Enough of OpenAI's Batch API for litellm's ``acreate_file`` / ``acreate_batch`` /
``aretrieve_batch`` / ``afile_content`` to run end to end offline:

* ``POST /v1/files`` (multipart ``purpose`` + ``file``), ``GET /v1/files/{id}``,
  ``GET /v1/files/{id}/content``;
* ``POST /v1/batches``, ``GET /v1/batches/{id}``, ``GET /v1/batches``,
  ``POST /v1/batches/{id}/cancel``.

A batch goes validating -> in_progress -> finalizing -> completed. Each line is answered by
POSTing its body to the stub's own chat endpoint, so a line gets exactly the answer (and
the faults) a chat call would. Steering, over HTTP like the rest of the stub:

* ``completion_delay_s``: how long a batch stays in progress before its lines are answered;
* ``fail_first_n_lines`` + ``line_failure``: the next N lines (across batches) fail with an
  error or expire instead of being answered;
* ``GET/POST /_stub/batches/config``, ``GET /_stub/batches/stats``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Any, Literal

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["BatchEndpoints", "BatchStubConfig"]


class BatchStubConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    completion_delay_s: float = Field(
        default=0.0, ge=0, description="Seconds a batch stays in progress before it answers."
    )
    fail_first_n_lines: int = Field(
        default=0, ge=0, description="The next N lines fail (or expire) instead of answering."
    )
    line_failure: Literal["error", "expired"] = "error"


def _error(status: int, message: str) -> web.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
    return web.json_response(body, status=status)


class BatchEndpoints:
    """Files and batches of one stub server; state lives on the stub's event loop."""

    def __init__(self, base_url: Any) -> None:
        self._base_url = base_url  # a callable: the stub's own URL once it listens
        self._lock = threading.Lock()
        self.config = BatchStubConfig()
        self._failures_left = 0
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.counters = {"files_created": 0, "batches_created": 0, "lines_submitted": 0}

    def register(self, app: web.Application) -> None:
        for prefix in ("/v1", ""):
            app.router.add_post(f"{prefix}/files", self._create_file)
            app.router.add_get(f"{prefix}/files/{{file_id}}", self._get_file)
            app.router.add_get(f"{prefix}/files/{{file_id}}/content", self._file_content)
            app.router.add_post(f"{prefix}/batches", self._create_batch)
            app.router.add_get(f"{prefix}/batches", self._list_batches)
            app.router.add_get(f"{prefix}/batches/{{batch_id}}", self._get_batch)
            app.router.add_post(f"{prefix}/batches/{{batch_id}}/cancel", self._cancel_batch)
        app.router.add_get("/_stub/batches/config", self._get_config)
        app.router.add_post("/_stub/batches/config", self._set_config)
        app.router.add_get("/_stub/batches/stats", self._stats)

    # -- files ---------------------------------------------------------------------------

    def _store_file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        meta = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[file_id] = meta
        self.contents[file_id] = data
        return meta

    async def _create_file(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        purpose = str(form.get("purpose") or "")
        if not isinstance(upload, web.FileField):
            return _error(400, "a multipart 'file' field is required")
        data = upload.file.read()
        with self._lock:
            self.counters["files_created"] += 1
        return web.json_response(self._store_file(data, upload.filename or "upload", purpose))

    async def _get_file(self, request: web.Request) -> web.Response:
        meta = self.files.get(request.match_info["file_id"])
        return web.json_response(meta) if meta else _error(404, "no such file")

    async def _file_content(self, request: web.Request) -> web.Response:
        data = self.contents.get(request.match_info["file_id"])
        if data is None:
            return _error(404, "no such file")
        return web.Response(body=data, content_type="application/octet-stream")

    # -- batches -------------------------------------------------------------------------

    async def _create_batch(self, request: web.Request) -> web.Response:
        body = await request.json()
        file_id = body.get("input_file_id")
        if file_id not in self.contents:
            return _error(400, f"input_file_id {file_id!r} not found")
        lines = [json.loads(x) for x in self.contents[file_id].decode().splitlines() if x.strip()]
        now = int(time.time())
        batch_id = f"batch_{uuid.uuid4().hex[:24]}"
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body.get("endpoint", "/v1/chat/completions"),
            "errors": None,
            "input_file_id": file_id,
            "completion_window": body.get("completion_window", "24h"),
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + 24 * 3600,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": body.get("metadata") or {},
        }
        self.batches[batch_id] = batch
        with self._lock:
            self.counters["batches_created"] += 1
            self.counters["lines_submitted"] += len(lines)
        task = asyncio.get_running_loop().create_task(self._process(batch, lines))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response(batch)

    async def _process(self, batch: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        created = time.time()  # created_at is whole seconds: too coarse for short delays
        await asyncio.sleep(0)
        batch["status"], batch["in_progress_at"] = "in_progress", int(time.time())
        # Re-read the delay while waiting: a test may shorten it for a batch in progress.
        while time.time() < created + self.config.completion_delay_s:
            await asyncio.sleep(0.05)
        if batch["status"] != "in_progress":
            return  # cancelled meanwhile
        batch["status"], batch["finalizing_at"] = "finalizing", int(time.time())
        outputs: list[str] = []
        errors: list[str] = []
        url = self._base_url() + "/v1/chat/completions"
        async with aiohttp.ClientSession() as session:
            for line in lines:
                record = await self._answer(session, url, line)
                ok = record["error"] is None
                (outputs if ok else errors).append(json.dumps(record))
                batch["request_counts"]["completed" if ok else "failed"] += 1
        if outputs:
            name = f"{batch['id']}_output.jsonl"
            out = self._store_file(("\n".join(outputs) + "\n").encode(), name, "batch_output")
            batch["output_file_id"] = out["id"]
        if errors:
            name = f"{batch['id']}_error.jsonl"
            err = self._store_file(("\n".join(errors) + "\n").encode(), name, "batch_output")
            batch["error_file_id"] = err["id"]
        batch["status"], batch["completed_at"] = "completed", int(time.time())

    async def _answer(
        self, session: aiohttp.ClientSession, url: str, line: dict[str, Any]
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": f"batch_req_{uuid.uuid4().hex[:16]}",
            "custom_id": line.get("custom_id"),
            "response": None,
            "error": None,
        }
        with self._lock:
            injected = self._failures_left > 0
            self._failures_left -= int(injected)
        if injected and self.config.line_failure == "expired":
            record["error"] = {
                "code": "batch_expired",
                "message": "This request could not be executed before the completion "
                "window expired.",
            }
            return record
        if injected:
            record["response"] = {"status_code": 500, "body": {"error": {"message": "stub"}}}
            record["error"] = {"code": "server_error", "message": "injected line failure (stub)"}
            return record
        async with session.post(url, json=line.get("body") or {}) as response:
            text = await response.text()
        try:
            body = json.loads(text)
        except ValueError:
            body = {"error": {"message": "malformed answer"}}
        record["response"] = {
            "status_code": response.status,
            "request_id": response.headers.get("x-request-id"),
            "body": body,
        }
        if response.status != 200 or "error" in body:
            message = (body.get("error") or {}).get("message", "error")
            record["error"] = {"code": str(response.status), "message": message}
        return record

    async def _get_batch(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["batch_id"])
        return web.json_response(batch) if batch else _error(404, "no such batch")

    async def _list_batches(self, request: web.Request) -> web.Response:
        data = list(self.batches.values())
        return web.json_response({"object": "list", "data": data, "has_more": False})

    async def _cancel_batch(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None:
            return _error(404, "no such batch")
        if batch["status"] in ("validating", "in_progress"):
            batch["status"], batch["cancelled_at"] = "cancelled", int(time.time())
        return web.json_response(batch)

    # -- control -------------------------------------------------------------------------

    async def _get_config(self, request: web.Request) -> web.Response:
        return web.json_response(self.config.model_dump(mode="json"))

    async def _set_config(self, request: web.Request) -> web.Response:
        try:
            changes = await request.json()
            self.config = BatchStubConfig.model_validate(
                {**self.config.model_dump(), **dict(changes)}
            )
        except (ValueError, TypeError, ValidationError) as exc:
            return _error(400, str(exc))
        if "fail_first_n_lines" in changes:
            with self._lock:
                self._failures_left = self.config.fail_first_n_lines
        return web.json_response(self.config.model_dump(mode="json"))

    async def _stats(self, request: web.Request) -> web.Response:
        with self._lock:
            counters = dict(self.counters)
        states: dict[str, int] = {}
        for batch in self.batches.values():
            states[batch["status"]] = states.get(batch["status"], 0) + 1
        return web.json_response({**counters, "batches_by_status": states})
