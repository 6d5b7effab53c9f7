"""Attack: the UI's password is the whole admin API. The runner role's allow-list, checked
without a server: what a runner may call, what it may not, what the door strips, and what
the Prefect server behind the door receives (a stub upstream records it)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from eightflow.server.credentials import ADMIN, RUNNER, Credentials
from eightflow.server.front_door import FrontDoor
from eightflow.server.runner_policy import (
    RUNNER_ROUTES,
    Refused,
    clean_body,
    clean_query,
    runner_answer,
    runner_may,
    split_path,
)
from tests.support.asgi import read_body

RUN = "0b9c6f1e-8d1a-4d3e-9a53-7f1f3c2b1a00"
ADMIN_AUTH = "eightflow:" + "a" * 48
RUNNER_AUTH = "runner:" + "b" * 48


def segments(path: str) -> list[str]:
    found = split_path(path)
    assert found is not None, path
    return found


# (method, API path, may a runner call it?)
ROUTES = [
    # What the UI reads, the run form, the review form.
    ("POST", "/flow_runs/filter", True),
    ("POST", "/flow_runs/paginate", True),
    ("POST", "/ui/flow_runs/history", True),
    ("GET", f"/flow_runs/{RUN}", True),
    ("HEAD", f"/flow_runs/{RUN}", True),
    ("POST", "/logs/filter", True),
    ("POST", "/artifacts/filter", True),
    ("GET", f"/artifacts/{RUN}", True),
    ("GET", "/csrf-token", True),
    ("GET", "/admin/version", True),
    ("POST", "/ui/schemas/validate", True),
    ("POST", f"/deployments/{RUN}/create_flow_run", True),
    ("POST", f"/flow_runs/{RUN}/resume", True),
    ("POST", f"/flow_runs/{RUN}/input/filter", True),
    ("POST", "/block_documents/count", True),
    ("POST", "/block_types/filter", True),
    ("GET", "/block_types/slug/secret/block_documents/name/openai-api-key", False),
    ("GET", "/block_types/slug/secret/block_documents", False),
    ("POST", "/block_documents/filter", False),
    ("GET", f"/block_documents/{RUN}", False),
    # The attacks of issue 22 and their relatives.
    ("PATCH", "/work_pools/local", False),
    ("PUT", "/work_pools/local", False),
    ("DELETE", "/work_pools/local", False),
    ("POST", "/work_pools/", False),
    ("POST", "/deployments/", False),
    ("PATCH", f"/deployments/{RUN}", False),
    ("DELETE", f"/deployments/{RUN}", False),
    ("POST", f"/deployments/{RUN}/create_flow_run/bulk", False),
    ("POST", f"/deployments/{RUN}/schedules", False),
    ("POST", f"/deployments/{RUN}/pause_deployment", False),
    ("POST", "/flow_runs/", False),
    ("DELETE", f"/flow_runs/{RUN}", False),
    ("PATCH", f"/flow_runs/{RUN}", False),
    ("POST", f"/flow_runs/{RUN}/set_state", False),
    ("POST", f"/flow_runs/{RUN}/input", False),
    ("DELETE", f"/flow_runs/{RUN}/input/key", False),
    ("POST", "/flow_runs/bulk_delete", False),
    ("POST", "/block_documents/", False),
    ("PATCH", f"/block_documents/{RUN}", False),
    ("DELETE", f"/block_documents/{RUN}", False),
    ("POST", "/block_types/install_system_block_types", False),
    ("POST", "/variables/", False),
    ("POST", "/variables/filter", False),
    ("GET", "/variables/name/openai-api-key", False),
    ("POST", "/automations/", False),
    ("DELETE", f"/automations/{RUN}", False),
    ("POST", "/events", False),
    ("POST", "/logs/", False),
    ("POST", "/work_pools/local/get_scheduled_flow_runs", False),
    ("POST", "/work_pools/local/workers/heartbeat", False),
    ("POST", "/v2/concurrency_limits/increment", False),
    ("PUT", "/admin/storage", False),
    ("POST", "/flows/", False),
    ("POST", "/flows/filter/", False),  # trailing slash: not the same route
    ("OPTIONS", "/flows/filter", False),
    ("GET", "/flow_runs", False),
]


@pytest.mark.parametrize(("method", "path", "allowed"), ROUTES)
def test_the_runner_allow_list(method: str, path: str, allowed: bool) -> None:
    assert runner_may(method, segments(path)[0:]) is allowed


def test_runners_see_no_server_settings() -> None:
    assert runner_answer("GET", ["admin", "settings"]) == {
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": False
    }
    assert not runner_may("GET", ["admin", "settings"])


def test_every_allowed_route_is_one_of_prefects() -> None:
    """A typo in the allow-list would silently allow nothing (or something else)."""
    from prefect.server.api.server import create_api_app

    spec = create_api_app().openapi()["paths"]
    real = {(m.upper(), p) for p, ops in spec.items() for m in ops}
    real_shapes = {(m, tuple("{}" if s.startswith("{") else s for s in p[1:].split("/")))
                   for m, p in real}  # fmt: skip
    for method, pattern in RUNNER_ROUTES:
        shape = tuple("{}" if s.startswith("{") else s for s in pattern[1:].split("/"))
        assert (method, shape) in real_shapes, (method, pattern)


@pytest.mark.parametrize(
    "raw",
    ["/api/../api/admin/settings", "/api/./flows/filter", "/api//flows/filter",
     "/api/flows%2Ffilter", "/api/flows%2ffilter", "/api/flows%5Cfilter", "/api/%2e%2e/x",
     "/api/flows/%0a", "/api/flows/%ff", "api/flows/filter"],
)  # fmt: skip
def test_ambiguous_paths_are_refused(raw: str) -> None:
    assert split_path(raw) is None


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        (b"include_secrets=true", b""),
        (b"include_secrets=true&limit=5", b"limit=5"),
        (b"include%5Fsecrets=true", b""),
        (b"INCLUDE_SECRETS=1&x=1", b"x=1"),
        (b"include_secrets=1&include_secrets=1", b""),
        (b"limit=5", b"limit=5"),
    ],
)
def test_include_secrets_is_stripped_from_queries(query: bytes, kept: bytes) -> None:
    assert clean_query(query) == kept


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        (b'{"include_secrets": true, "limit": 3}', {"limit": 3}),
        (b'{"include_secrets": false, "include_secrets": true}', {}),  # duplicate keys
        (b'{"parameters": {"path": "a.md"}, "job_variables": {}}',
         {"parameters": {"path": "a.md"}, "job_variables": {}}),
        (b"", None),
    ],
)  # fmt: skip
def test_runner_bodies_are_rewritten(body: bytes, sent: Any) -> None:
    api = ["deployments", RUN, "create_flow_run"]
    cleaned = clean_body(api, body)
    assert (json.loads(cleaned) if cleaned else None) == sent


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"job_variables": {"env": {"EIGHTFLOW_API_BASE": "http://evil"}}}', 403),
        (b'{"job_variables": {"command": "id > /tmp/x"}}', 403),
        (b"not json", 400),
        (b'{"a": "' + b"x" * 1_000_001 + b'"}', 413),
    ],
)
def test_runner_bodies_that_are_refused(body: bytes, status: int) -> None:
    with pytest.raises(Refused) as refused:
        clean_body(["deployments", RUN, "create_flow_run"], body)
    assert refused.value.status == status


def basic(token: str) -> str:
    return "Basic " + base64.b64encode(token.encode()).decode()


@pytest.mark.parametrize(
    ("header", "role"),
    [
        (basic(ADMIN_AUTH), ADMIN),
        (basic(RUNNER_AUTH), RUNNER),
        (basic("runner:wrong"), None),
        (basic(ADMIN_AUTH + "x"), None),
        ("Bearer " + ADMIN_AUTH, None),
        ("Basic !!!notbase64", None),
        ("", None),
        (None, None),
    ],
)
def test_whose_request_it_is(header: str | None, role: str | None) -> None:
    assert Credentials(ADMIN_AUTH, RUNNER_AUTH).role_of_header(header) == role


class Upstream:
    """A stand-in Prefect server: records what reaches it, answers 200 with it."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.seen.append({"method": scope["method"], "path": scope["path"],
                          "query": scope["query_string"].decode(), "body": body,
                          "authorization": headers.get("authorization")})  # fmt: skip
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b'{"ok": true}'})


@pytest.fixture
def door() -> tuple[httpx.AsyncClient, Upstream]:
    upstream = Upstream()
    app = FrontDoor("http://prefect.internal", Credentials(ADMIN_AUTH, RUNNER_AUTH))
    app._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=upstream))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://door")
    return client, upstream


async def test_a_runner_reaches_the_server_as_admin_without_include_secrets(
    door: tuple[httpx.AsyncClient, Upstream],
) -> None:
    client, upstream = door
    path = f"/api/flow_runs/{RUN}"
    answer = await client.get(
        path + "?include_secrets=true", headers={"Authorization": basic(RUNNER_AUTH)}
    )
    assert answer.status_code == 200
    answer = await client.post(
        "/api/flow_runs/filter",
        content=b'{"include_secrets": true}',
        headers={"Authorization": basic(RUNNER_AUTH)},
    )
    assert answer.status_code == 200
    read, filtered = upstream.seen
    assert (read["path"], read["query"]) == (path, "")
    assert json.loads(filtered["body"]) == {}
    assert {read["authorization"], filtered["authorization"]} == {basic(ADMIN_AUTH)}


@pytest.mark.parametrize(
    ("method", "path", "header", "status"),
    [
        ("PATCH", "/api/work_pools/local", basic(RUNNER_AUTH), 403),
        ("POST", "/api/deployments/", basic(RUNNER_AUTH), 403),
        ("GET", "/api/flow_runs/x", None, 401),
        ("GET", "/api/flow_runs/x", basic("runner:guess"), 401),
        ("POST", "/api/flows%2Ffilter", basic(RUNNER_AUTH), 400),  # (httpx folds "..")
    ],
)
async def test_refusals_never_reach_the_server(
    door: tuple[httpx.AsyncClient, Upstream],
    method: str,
    path: str,
    header: str | None,
    status: int,
) -> None:
    client, upstream = door
    headers = {"Authorization": header} if header else {}
    answer = await client.request(method, path, headers=headers, content=b"{}")
    assert answer.status_code == status
    assert "detail" in answer.json()
    assert upstream.seen == []


async def test_the_admin_and_the_ui_pass_through(door: tuple[httpx.AsyncClient, Upstream]) -> None:
    client, upstream = door
    admin = await client.patch(
        "/api/work_pools/local?x=1", content=b"{}", headers={"Authorization": basic(ADMIN_AUTH)}
    )
    page = await client.get("/runs/flow-run/x")
    health = await client.get("/api/health")
    assert (admin.status_code, page.status_code, health.status_code) == (200, 200, 200)
    assert [(s["method"], s["path"], s["query"]) for s in upstream.seen] == [
        ("PATCH", "/api/work_pools/local", "x=1"),
        ("GET", "/runs/flow-run/x", ""),
        ("GET", "/api/health", ""),
    ]
    assert upstream.seen[0]["authorization"] == basic(ADMIN_AUTH)


@pytest.mark.parametrize(("credential", "status"), [(ADMIN_AUTH, 200), (RUNNER_AUTH, 413)])
async def test_only_the_operator_sends_big_bodies(
    door: tuple[httpx.AsyncClient, Upstream], credential: str, status: int
) -> None:
    client, upstream = door
    body = b'{"a": "' + b"x" * 2_000_000 + b'"}'
    answer = await client.post(
        "/api/flow_runs/filter", content=body, headers={"Authorization": basic(credential)}
    )
    assert answer.status_code == status
    assert len(upstream.seen) == (status == 200)
