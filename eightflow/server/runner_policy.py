"""What the runner role may call on Prefect's API: an explicit allow-list, nothing else.

A runner is a person who uses the UI: they see flows, runs, logs and artifacts, start runs of
existing deployments through their forms, and resume paused runs with input (review forms).
They cannot read secret values, create or change deployments, work pools, blocks, variables
or automations, or delete anything. Block documents and variables are not read at all: a
block keeps a secret in clear in any field its schema does not mark secret (seen in the
e2e test), and a variable's value is whatever the operator put there. Block types and
schemas (the catalogue) stay readable. ``include_secrets`` is dropped from whatever a runner
sends all the same. Everything below was checked against Prefect 3.9's API
routes (its OpenAPI document) and against what the UI calls while its pages load (the front
door's log). Reads that Prefect spells ``POST .../filter``, ``.../count``, ``.../history`` or
``.../paginate`` are reads; every other write is named one by one.

Paths are the API's own (``/api`` taken off). ``{x}`` matches one path segment.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, unquote, urlencode

# Reads whose body is a filter: (collection, suffix) pairs, all POST.
_FILTERED = {
    "flows": ("filter", "count", "paginate"),
    "flow_runs": ("filter", "count", "history", "lateness", "paginate"),
    "task_runs": ("filter", "count", "history", "paginate"),
    "deployments": ("filter", "count", "paginate"),
    "work_pools": ("filter", "count"),
    "work_queues": ("filter",),
    "artifacts": ("filter", "count", "latest/filter", "latest/count"),
    "logs": ("filter",),
    "events": ("filter",),
    "block_types": ("filter",),
    "block_schemas": ("filter",),
    "block_documents": ("count",),
    "saved_searches": ("filter",),
    "automations": ("filter", "count"),
    "concurrency_limits": ("filter",),
    "v2/concurrency_limits": ("filter",),
    "task_workers": ("filter",),
    "ui/flows": ("count-deployments", "next-runs"),
    "ui/flow_runs": ("history", "count-task-runs"),
    "ui/task_runs": ("count", "dashboard/counts"),
}

RUNNER_ROUTES: tuple[tuple[str, str], ...] = (
    *(("POST", f"/{base}/{suffix}") for base, suffixes in _FILTERED.items() for suffix in suffixes),
    # The UI's own plumbing: login check, CSRF token, health, form validation.
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/hello"),
    ("GET", "/version"),
    ("GET", "/admin/version"),  # the login page's auth check
    ("GET", "/admin/storage"),  # which block is the default result storage (an id)
    ("GET", "/csrf-token"),
    ("POST", "/ui/schemas/validate"),  # a Run form checks its parameters
    ("GET", "/collections/views/{view}"),
    ("GET", "/block_capabilities/"),
    # One object at a time.
    ("GET", "/flows/{id}"),
    ("GET", "/flows/name/{name}"),
    ("GET", "/flow_runs/{id}"),
    ("GET", "/flow_runs/{id}/graph"),
    ("GET", "/flow_runs/{id}/graph-v2"),
    ("GET", "/flow_runs/{id}/logs/download"),
    ("GET", "/flow_run_states/"),
    ("GET", "/flow_run_states/{id}"),
    ("GET", "/task_runs/{id}"),
    ("GET", "/task_run_states/"),
    ("GET", "/task_run_states/{id}"),
    ("GET", "/ui/task_runs/{id}"),
    ("GET", "/deployments/{id}"),
    ("GET", "/deployments/name/{flow}/{deployment}"),
    ("GET", "/deployments/{id}/schedules"),
    ("GET", "/deployments/{id}/work_queue_check"),
    ("GET", "/work_pools/{name}"),
    ("POST", "/work_pools/{name}/queues/filter"),
    ("POST", "/work_pools/{name}/workers/filter"),
    ("GET", "/work_pools/{name}/queues/{queue}"),
    ("GET", "/work_queues/{id}"),
    ("GET", "/work_queues/name/{name}"),
    ("GET", "/work_queues/{id}/status"),
    ("GET", "/artifacts/{id}"),
    ("GET", "/artifacts/{key}/latest"),
    ("GET", "/events/filter/next"),
    ("POST", "/events/count-by/{countable}"),
    ("GET", "/block_types/{id}"),
    ("GET", "/block_types/slug/{slug}"),
    ("GET", "/block_schemas/{id}"),
    ("GET", "/block_schemas/checksum/{checksum}"),
    ("GET", "/saved_searches/{id}"),
    ("GET", "/automations/{id}"),
    ("GET", "/automations/related-to/{resource}"),
    ("GET", "/concurrency_limits/{id}"),
    ("GET", "/concurrency_limits/tag/{tag}"),
    ("GET", "/v2/concurrency_limits/{id}"),
    # The two writes a runner makes: start a run of an existing deployment (its Run form),
    # and resume a paused or suspended run with the input its form asks for.
    ("POST", "/deployments/{id}/create_flow_run"),
    ("POST", "/flow_runs/{id}/resume"),
    ("POST", "/flow_runs/{id}/input/filter"),
    ("GET", "/flow_runs/{id}/input/{key}"),
)

# Asked of the server by the UI, answered by the door itself for a runner: the server's
# settings (paths, ports, masked secrets) are the operator's; the UI reads one flag of them.
RUNNER_ANSWERS: dict[tuple[str, str], dict[str, object]] = {
    ("GET", "/admin/settings"): {"PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": False},
}

# Websockets a runner may open (read-only streams the UI follows).
RUNNER_SOCKETS: tuple[str, ...] = ("/events/out", "/logs/out")

# Query or body fields a runner's request never carries on to the server.
STRIPPED_FIELDS = frozenset({"include_secrets"})
MAX_RUNNER_BODY = 1_000_000
_SEGMENT = re.compile(r"^\{[a-z_]+\}$")


class Refused(Exception):
    """A runner's request that the front door answers itself (status, reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def split_path(raw: str) -> list[str] | None:
    """A raw (percent-encoded) path as decoded segments, or None when it is ambiguous.

    Refused: ``.``/``..`` segments, empty segments but a trailing one, and segments that
    decode to a slash, backslash or control character. What is checked is then exactly
    what the server routes.
    """
    if not raw.startswith("/"):
        return None
    parts = raw[1:].split("/")
    segments: list[str] = []
    for index, part in enumerate(parts):
        try:
            decoded = unquote(part, errors="strict") if "%" in part else part
        except UnicodeDecodeError:
            return None
        if decoded in (".", "..") or any(c in decoded for c in "/\\") or _control(decoded):
            return None
        if not decoded and index != len(parts) - 1:
            return None
        segments.append(decoded)
    return segments


def _control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _compile(pattern: str) -> tuple[str, ...]:
    return tuple(pattern[1:].split("/"))


_COMPILED = tuple((method, _compile(pattern)) for method, pattern in RUNNER_ROUTES)


def _matches(pattern: tuple[str, ...], segments: list[str]) -> bool:
    if len(pattern) != len(segments):
        return False
    return all(
        (bool(seg) if _SEGMENT.match(want) else seg == want)
        for want, seg in zip(pattern, segments, strict=True)
    )


def runner_may(method: str, api_segments: list[str]) -> bool:
    """True when the allow-list has ``method`` on this API path (``/api`` taken off)."""
    method = "GET" if method.upper() == "HEAD" else method.upper()
    return any(m == method and _matches(p, api_segments) for m, p in _COMPILED)


def runner_answer(method: str, api_segments: list[str]) -> dict[str, object] | None:
    """What the door answers a runner itself, without asking the server (or None)."""
    method = "GET" if method.upper() == "HEAD" else method.upper()
    return RUNNER_ANSWERS.get((method, "/" + "/".join(api_segments)))


def runner_may_open(api_segments: list[str]) -> bool:
    return "/" + "/".join(api_segments) in RUNNER_SOCKETS


def clean_query(query: bytes) -> bytes:
    """The query string without the fields a runner may not set (``include_secrets``)."""
    if not query:
        return query
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.strip().lower() not in STRIPPED_FIELDS]
    return urlencode(kept).encode("latin-1")


def clean_body(api_segments: list[str], body: bytes) -> bytes:
    """A runner's JSON body, parsed and written again without stripped fields.

    Parsing and re-serialising means the server reads exactly what was checked (a duplicate
    key cannot say one thing here and another there). A run started from a deployment may
    not set job variables: only the operator's deployment does.
    """
    if not body.strip():
        return b""
    if len(body) > MAX_RUNNER_BODY:
        raise Refused(413, f"request body over {MAX_RUNNER_BODY} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(400, f"request body is not JSON ({exc})") from None
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k.strip().lower() not in STRIPPED_FIELDS}
        creates_run = api_segments[:1] == ["deployments"] and api_segments[-1:] == [
            "create_flow_run"
        ]
        if creates_run and data.get("job_variables"):
            raise Refused(403, "the runner role may not set job variables on a run")
    return json.dumps(data).encode()
