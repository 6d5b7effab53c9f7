"""Attack: the UI's password is the whole admin API (issue 22). Replayed as raw HTTP against
``eightflow stack up`` with the runner credential, every attack is refused; what a person
using the UI needs (reads, a run from a deployment's form, resuming a paused run with input)
still works, in Chromium too; the operator's admin string still does everything; and no
provider key reaches the server's database.

Marked e2e: starts a real stack (``stack up --workers 0 --no-deploy``: Prefect's server on a
private port, the front door on a random port in 4300-4999) with a private home, stopped in
teardown.
"""

from __future__ import annotations

import http.client
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import Door, isolated_env, running_stack

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
KEY_CANARY = "sk-runner-role-canary-" + "k" * 32  # the operator's provider key
BLOCK_CANARY = "old-secret-block-canary-" + "b" * 24  # a key an older stack left in a block
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
Require = Callable[[bool, str], None]


PARAMETERS = {
    "title": "Parameters",
    "type": "object",
    "properties": {"path": {"title": "path", "type": "string", "position": 0}},
    "required": ["path"],
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    env = isolated_env(
        tmp_path_factory.mktemp("runner-role"), OPENAI_API_KEY=KEY_CANARY, PYTHONPATH=str(ROOT)
    )
    with running_stack(env, "--workers", "0", "--no-deploy") as up:
        admin = Door(up.api, up.admin_auth)
        flow = admin.ok("POST", "/flows/", json={"name": "runner-role-probe"})
        deployment = admin.ok(
            "POST",
            "/deployments/",
            json={"name": "adhoc", "flow_id": flow["id"], "work_pool_name": "local",
                  "entrypoint": "probe.py:probe", "parameter_openapi_schema": PARAMETERS},
        )  # fmt: skip
        run = admin.ok(
            "POST",
            f"/deployments/{deployment['id']}/create_flow_run",
            json={"parameters": {"path": "examples/sample.md"}},
        )
        secret = admin.ok("GET", "/block_types/slug/secret")
        schema = admin.ok(
            "POST", "/block_schemas/filter", json={"block_types": {"slug": {"any_": ["secret"]}}}
        )[0]
        admin.ok(
            "POST",
            "/block_documents/",
            json={"name": "old-openai-api-key", "block_type_id": secret["id"],
                  "block_schema_id": schema["id"], "data": {"value": BLOCK_CANARY}},
        )  # fmt: skip
        yield {
            "url": up.url,
            "api": up.api,
            "port": up.port,
            "home": up.home,
            "env": env,
            "up": up.up.stdout,
            "admin_auth": up.admin_auth,
            "runner_auth": up.runner_auth,
            "admin": admin,
            "runner": Door(up.api, up.runner_auth),
            "deployment": deployment,
            "run": run,
        }


def test_stack_up_writes_a_private_runner_credential(stack: dict[str, Any]) -> None:
    for name in ("prefect-auth", "runner-auth"):
        path = stack["home"] / name
        assert path.stat().st_mode & 0o777 == 0o600, name
    user, password = stack["runner_auth"].split(":")
    assert user == "runner" and len(password) == 48
    assert stack["runner_auth"] != stack["admin_auth"]
    assert str(stack["home"] / "runner-auth") in stack["up"].replace("\n", "")


def shell_deployment(stack: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "pwn", "flow_id": stack["deployment"]["flow_id"], "work_pool_name": "local",
        "pull_steps": [{"prefect.deployments.steps.run_shell_script": {
            "script": "sh -c 'id > /tmp/pwned; env >> /tmp/pwned'"}}],
    }  # fmt: skip


# (why, method, path, body): each one refused (403) for the runner.
ATTACKS: list[tuple[str, str, str, Any]] = [
    ("unlock the job template", "PATCH", "/work_pools/local", "default-template"),
    ("replace the pool", "POST", "/work_pools/", {"name": "local", "type": "process"}),
    ("deploy a shell pull step", "POST", "/deployments/", "shell-deployment"),
    ("change a deployment", "PATCH", "/deployments/{deployment}", {"pull_steps": []}),
    ("delete a deployment", "DELETE", "/deployments/{deployment}", None),
    ("run with its own env", "POST", "/deployments/{deployment}/create_flow_run",
     {"job_variables": {"env": {"EIGHTFLOW_API_BASE": "http://127.0.0.1:9/v1"}}}),
    ("a run without a deployment", "POST", "/flow_runs/", {"flow_id": "{flow}"}),
    ("delete a run", "DELETE", "/flow_runs/{run}", None),
    ("force a run's state", "POST", "/flow_runs/{run}/set_state",
     {"state": {"type": "COMPLETED"}, "force": True}),
    ("write a block", "POST", "/block_documents/", {"name": "x", "data": {}}),
    ("delete a block", "DELETE", "/block_documents/{block}", None),
    ("write a variable", "POST", "/variables/", {"name": "x", "value": "y"}),
    ("read a variable", "GET", "/variables/name/openai-api-key", None),
    ("write an automation", "POST", "/automations/", {"name": "x"}),
    ("emit events", "POST", "/events", []),
    ("take the pool's scheduled runs", "POST", "/work_pools/local/get_scheduled_flow_runs", {}),
    ("change result storage", "PUT", "/admin/storage", {}),
]  # fmt: skip


def fill(stack: dict[str, Any], value: Any) -> Any:
    from prefect.workers.process import ProcessWorker

    if value == "default-template":
        return {"base_job_template": ProcessWorker.get_default_base_job_template()}
    if value == "shell-deployment":
        return shell_deployment(stack)
    text = json.dumps(value).replace("{flow}", stack["deployment"]["flow_id"])
    return json.loads(text)


def expand(stack: dict[str, Any], path: str) -> str:
    blocks = stack["admin"].ok("POST", "/block_documents/filter", json={})
    return path.format(deployment=stack["deployment"]["id"], run=stack["run"]["id"],
                       block=blocks[0]["id"] if blocks else "none")  # fmt: skip


@pytest.mark.parametrize(("why", "method", "path", "body"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_the_runner_is_refused(
    stack: dict[str, Any], why: str, method: str, path: str, body: Any
) -> None:
    kw = {} if body is None else {"json": fill(stack, body)}
    response = stack["runner"](method, expand(stack, path), **kw)
    assert response.status_code == 403, (why, response.status_code, response.text)
    assert "runner role may not" in response.json()["detail"]


def test_the_job_template_stays_locked_and_no_shell_deployment_exists(
    stack: dict[str, Any],
) -> None:
    stack["runner"]("PATCH", "/work_pools/local", json=fill(stack, "default-template"))
    stack["runner"]("POST", "/deployments/", json=shell_deployment(stack))
    pool = stack["admin"].ok("GET", "/work_pools/local")
    assert "command" not in pool["base_job_template"]["variables"]["properties"]
    names = {d["name"] for d in stack["admin"].ok("POST", "/deployments/filter", json={})}
    assert "pwn" not in names


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/block_types/slug/secret/block_documents/name/old-openai-api-key"
                "?include_secrets=true", None),
        ("GET", "/block_types/slug/secret/block_documents?include_secrets=true", None),
        ("POST", "/block_documents/filter", {"include_secrets": True}),
        ("GET", "/block_documents/{block}?include_secrets=true&include_secrets=true", None),
    ],
)  # fmt: skip
def test_the_runner_never_reads_a_secret_value(
    stack: dict[str, Any], method: str, path: str, body: Any
) -> None:
    path = expand(stack, path)
    kw = {} if body is None else {"json": body}
    as_runner = stack["runner"](method, path, **kw)
    assert as_runner.status_code == 403, as_runner.text
    assert BLOCK_CANARY not in as_runner.text
    # The attack is real: the same request with the admin string returns the value.
    assert BLOCK_CANARY in stack["admin"](method, path, **kw).text


def test_the_runner_sees_no_server_settings(stack: dict[str, Any]) -> None:
    settings = stack["runner"].ok("GET", "/admin/settings")
    assert str(stack["home"]) not in json.dumps(settings)
    assert str(stack["home"]) in json.dumps(stack["admin"].ok("GET", "/admin/settings"))


@pytest.mark.parametrize("raw", ["/api/../api/admin/settings", "/api/flows%2Ffilter"])
def test_ambiguous_raw_paths_are_refused(stack: dict[str, Any], raw: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", stack["port"], timeout=30)
    connection.request("GET", raw, headers=stack["runner"].auth)
    assert connection.getresponse().status == 400


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/flow_runs/filter", {}),
        ("POST", "/deployments/filter", {}),
        ("POST", "/logs/filter", {}),
        ("POST", "/artifacts/filter", {}),
        ("POST", "/ui/flow_runs/history", {"history_start": "2026-01-01T00:00:00Z",
                                           "history_end": "2027-01-01T00:00:00Z",
                                           "history_interval_seconds": 86400}),
        ("GET", "/flow_runs/{run}", None),
        ("GET", "/deployments/{deployment}", None),
        ("GET", "/work_pools/local", None),
        ("GET", "/admin/version", None),
        ("POST", "/deployments/{deployment}/create_flow_run",
         {"parameters": {"path": "examples/sample.md"}}),
    ],
)  # fmt: skip
def test_the_runner_reads_and_starts_runs(
    stack: dict[str, Any], method: str, path: str, body: Any
) -> None:
    kw = {} if body is None else {"json": body}
    stack["runner"].ok(method, expand(stack, path), **kw)


def test_the_admin_string_still_does_everything(stack: dict[str, Any]) -> None:
    admin = stack["admin"]
    admin.ok("POST", "/variables/", json={"name": "runner_role_probe", "value": "x"})
    assert admin.ok("GET", "/variables/name/runner_role_probe")["value"] == "x"
    admin.ok("DELETE", "/variables/name/runner_role_probe")
    pool = admin.ok("GET", "/work_pools/local")
    admin.ok("PATCH", "/work_pools/local", json={"description": pool["description"]})


def test_websockets_runner_reads_streams_but_cannot_emit(stack: dict[str, Any]) -> None:
    from websockets.sync.client import connect

    ws_url = stack["url"].replace("http", "ws") + "/api/events"

    def handshake(path: str, token: str) -> Any:
        with connect(ws_url + path, subprotocols=["prefect"], open_timeout=60) as ws:
            ws.send(json.dumps({"type": "auth", "token": token}))
            try:
                return json.loads(ws.recv(timeout=60))
            except Exception as exc:  # closed by the door
                return type(exc).__name__

    assert handshake("/out", stack["runner_auth"]) == {"type": "auth_success"}
    assert handshake("/in", stack["runner_auth"]) == "ConnectionClosedError"
    assert handshake("/out", "runner:guess") == "ConnectionClosedError"
    assert handshake("/in", stack["admin_auth"]) == {"type": "auth_success"}


PAUSING_FLOW = """
from prefect import flow
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput

class Decision(RunInput):
    approve: bool

@flow(name="runner-role-review")
def review() -> bool:
    decision = pause_flow_run(wait_for_input=Decision, timeout=600)
    print("DECISION", decision.approve)
    return decision.approve

review()
"""


def admin_env(stack: dict[str, Any]) -> dict[str, str]:
    """A client of the stack with the operator's string, through the front door."""
    return {**stack["env"], "PREFECT_API_URL": stack["api"],
            "PREFECT_API_AUTH_STRING": stack["admin_auth"]}  # fmt: skip


def test_the_runner_resumes_a_paused_run_with_input(stack: dict[str, Any], tmp_path: Path) -> None:
    script = tmp_path / "pausing.py"
    script.write_text(PAUSING_FLOW)
    child = subprocess.Popen(
        [sys.executable, str(script)], env=admin_env(stack), cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        paused = wait_paused(stack, "runner-role-review")
        answer = stack["runner"].ok(
            "POST", f"/flow_runs/{paused['id']}/resume", json={"run_input": {"approve": True}}
        )
        assert answer["status"] == "ACCEPT", answer
        out, _ = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, out[-3000:]
    assert "DECISION True" in out


def wait_paused(stack: dict[str, Any], flow_name: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    query = {"flows": {"name": {"any_": [flow_name]}}, "flow_runs": {"state": {"type": {
        "any_": ["PAUSED"]}}}}  # fmt: skip
    while time.monotonic() < deadline:
        runs = stack["admin"].ok("POST", "/flow_runs/filter", json=query)
        if runs:
            return dict(runs[0])
        time.sleep(1)
    raise AssertionError(f"no paused run of {flow_name}")


def test_no_provider_key_in_the_server(stack: dict[str, Any]) -> None:
    """``grep`` for the operator's key over the server's database (and the home)."""
    data = stack["home"] / "prefect"
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name.startswith("prefect.db") for p in files), files
    for path in files:
        assert KEY_CANARY.encode() not in path.read_bytes(), path
    db = sqlite3.connect(data / "prefect.db")
    try:
        names = [r[0] for r in db.execute("SELECT name FROM block_document")]
        variables = [r[0] for r in db.execute("SELECT name FROM variable")]
    finally:
        db.close()
    assert not {"openai-api-key", "anthropic-api-key"} & set(names), names
    assert not any("key" in name for name in variables), variables


def chromium_path(require: Require) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(chromium is not None, "Debian's chromium (apt-get install -y chromium)")
    import playwright.sync_api  # noqa: F401  (a dev dependency: missing fails, never skips)

    assert chromium is not None
    return chromium


def test_a_runner_starts_a_run_from_a_deployment_form_in_chromium(
    stack: dict[str, Any], require: Require
) -> None:
    from playwright.sync_api import sync_playwright

    from tests.review.test_review_ui_e2e import CHROMIUM_ARGS

    chromium = chromium_path(require)
    deployment = stack["deployment"]["id"]
    before = {r["id"] for r in stack["admin"].ok("POST", "/flow_runs/filter", json={})}
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(stack["url"])
        password = page.locator("input[type=password]").first
        password.fill(stack["runner_auth"])
        password.press("Enter")
        page.wait_for_url(lambda u: "/login" not in u)
        page.goto(f"{stack['url']}/deployments/deployment/{deployment}/run")
        page.get_by_text("path", exact=True).first.wait_for()
        page.locator("textarea").first.fill("examples/triage/harbour-cycle-club-faq.md")
        page.get_by_role("button", name="Submit").last.click()
        page.wait_for_url(lambda u: "/run" not in u.split("?")[0].rsplit("/", 1)[-1])
        page.screenshot(path=str(OUTPUT / "runner-run-form.png"), full_page=True)
        browser.close()
    runs = stack["admin"].ok("POST", "/flow_runs/filter", json={})
    new = [r for r in runs if r["id"] not in before]
    assert [r["parameters"] for r in new] == [{"path": "examples/triage/harbour-cycle-club-faq.md"}]
    log = (stack["home"] / "logs" / "front-door.log").read_text()
    assert f"runner POST /api/deployments/{deployment}/create_flow_run -> 201" in log


def test_a_runner_submits_a_review_form_in_chromium(
    stack: dict[str, Any], require: Require
) -> None:
    from tests.review.test_review_ui_e2e import (
        EDITED,
        FLAGGED,
        fill_and_submit,
        pending_review,
    )

    chromium = chromium_path(require)
    env = {**admin_env(stack), "EIGHTFLOW_REVIEW_POLL_S": "1"}
    command = [sys.executable, "-m", "eightflow.cli.main", "run", "document_analysis"]
    command += [str(FLAGGED), "--review-below", "0.6", "--json"]
    child = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        review = pending_review(stack["home"], timeout=400)
        url = f"{stack['url']}/runs/flow-run/{review['flow_run_id']}"
        fill_and_submit(url, chromium, stack["runner_auth"])
        stdout, stderr = child.communicate(timeout=400)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, stderr[-3000:]
    assert json.loads(stdout)["outputs"]["sentiment"]["label"] == EDITED
    db = sqlite3.connect(stack["home"] / "ledger.sqlite")
    row = db.execute("SELECT status, reviewer, decided_via FROM reviews").fetchone()
    db.close()
    assert row == ("edited", "ana", "ui")
    log = (stack["home"] / "logs" / "front-door.log").read_text()
    assert f"runner POST /api/flow_runs/{review['flow_run_id']}/resume -> 20" in log
