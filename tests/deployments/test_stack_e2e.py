"""The stack end to end: PostgreSQL, two workers, deployments triggered as the UI does,
artifacts read back, and the report seen in a real browser (headless Chromium).

Marked e2e: it starts PostgreSQL, a Prefect server and workers, and takes a few minutes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import CHROMIUM_ARGS, chromium_path, log_in
from tests.support.postgres import postgres_for_test
from tests.support.stack import Door, isolated_env, running_stack

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
E2E_KEY = "sk-e2e-stack-" + "q" * 32
pytestmark = pytest.mark.e2e
WORKER_LABEL = "prefect.worker.name"


WORKERS = 3  # the batch-sharded coordinator takes one worker, each of the 2 shards another
Require = Callable[[bool, str], None]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, require: Require) -> Iterator[dict[str, Any]]:
    require(os.geteuid() == 0, "the stack e2e runs as root, as on CI")
    require(shutil.which("pg_ctlcluster") is not None, "PostgreSQL 15 (pg_ctlcluster)")
    from eightflow_app.deployments.postgres import drop_database, ensure_postgres

    # One database per session: two e2e runs on one machine must not drop each other's.
    database_name = f"eightflow_e2e_{os.getpid()}"
    env = isolated_env(
        tmp_path_factory.mktemp("stack"),
        # A private Prefect profile: `stack up` writes the API URL and auth string there.
        EIGHTFLOW_CONFIGURE_PROFILE="1",
        # A key the workers would leak if a run could point them elsewhere.
        OPENAI_API_KEY=E2E_KEY,
    )
    # Whatever this starts it stops: the stack, the database, and PostgreSQL itself unless
    # the cluster was already running before the test.
    with postgres_for_test():
        database = ensure_postgres(database=database_name, fresh=True)
        try:
            with running_stack(env, "--workers", str(WORKERS), "--postgres", database) as up:
                yield {
                    "auth": up.admin_auth,
                    "admin": Door(up.api, up.admin_auth),
                    "port": up.port,
                    "url": up.url,
                    "env": env,
                    "api": up.api,
                    "home": up.home,
                    "database": database_name,
                }
        finally:
            drop_database(database_name)


def api(stack: dict[str, Any], method: str, path: str, **kw: Any) -> Any:
    response = request(stack, method, path, **kw)
    response.raise_for_status()
    return response.json() if response.content else None


def request(stack: dict[str, Any], method: str, path: str, **kw: Any) -> httpx.Response:
    return stack["admin"](method, path, **kw)


def run_deployment(stack: dict[str, Any], name: str, params: dict[str, Any]) -> dict[str, Any]:
    """What the UI's Run button does: create a flow run from the deployment, then wait."""
    flow_name, deployment = name.split("/")
    found = api(stack, "GET", f"/deployments/name/{flow_name}/{deployment}")
    run = api(
        stack,
        "POST",
        f"/deployments/{found['id']}/create_flow_run",
        json={"parameters": params},
    )
    return wait_for(stack, run["id"], name)


def wait_for(stack: dict[str, Any], run_id: str, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        current = api(stack, "GET", f"/flow_runs/{run_id}")
        if current["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return dict(current)
        time.sleep(1)
    raise AssertionError(f"{name} did not finish: {current['state']}")


def artifacts_of(stack: dict[str, Any], flow_run_id: str) -> dict[str, Any]:
    rows = api(
        stack,
        "POST",
        "/artifacts/filter",
        json={"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}},
    )
    return {row["key"]: row for row in rows if row.get("key")}


@pytest.mark.timeout(900)  # four runs one after another, each bounded by wait_for
def test_deployments_run_on_workers_with_postgres(stack: dict[str, Any]) -> None:
    deployments = api(stack, "POST", "/deployments/filter", json={})
    names = {f"{d['name']}" for d in deployments}
    assert {"nightly", "adhoc", "sharded"} <= names
    nightly = next(d for d in deployments if d["name"] == "nightly")
    assert nightly["schedules"] and nightly["schedules"][0]["schedule"]["cron"] == "0 2 * * *"

    analysis = run_deployment(stack, "document-analysis/adhoc", {"path": "examples/sample.md"})
    assert analysis["state"]["type"] == "COMPLETED", analysis["state"]
    keys = artifacts_of(stack, analysis["id"])
    assert {"document-analysis-report", "document-analysis-trace"} <= set(keys)

    out = OUTPUT / "stack-batch-out"  # inside the stack's output root (where it started)
    batch = run_deployment(
        stack,
        "batch-documents/nightly",
        {"folder": "examples/documents", "out": str(out), "concurrency": 4},
    )
    assert batch["state"]["type"] == "COMPLETED", batch["state"]
    assert (out / "results.csv").exists()
    assert {"batch-documents-summary", "batch-documents-results"} <= set(
        artifacts_of(stack, batch["id"])
    )

    triage = run_deployment(
        stack, "document-triage/adhoc", {"path": "examples/triage/platform-weekly-sync.md"}
    )
    assert triage["state"]["type"] == "COMPLETED", triage["state"]

    sharded_out = OUTPUT / "stack-sharded-out"
    sharded = run_deployment(
        stack,
        "batch-sharded/sharded",
        {"folder": "examples/documents", "out": str(sharded_out), "shards": 2},
    )
    assert sharded["state"]["type"] == "COMPLETED", sharded["state"]
    import pandas as pd

    merged = pd.read_csv(sharded_out / "results.csv")
    assert len(merged) == len(list((ROOT / "examples" / "documents").iterdir()))
    # Which worker ran what: Prefect labels each flow run with its worker's name.
    shard_runs = api(
        stack, "POST", "/flow_runs/filter", json={"flow_runs": {"name": {"like_": "shard-"}}}
    )
    ran_on = {r["name"]: (r.get("labels") or {}).get(WORKER_LABEL) for r in shard_runs}
    coordinator = (sharded.get("labels") or {}).get(WORKER_LABEL)
    started = {f"eightflow-worker-{i + 1}" for i in range(WORKERS)}
    assert sorted(ran_on) == ["shard-1-of-2", "shard-2-of-2"], ran_on
    assert coordinator in started, sharded.get("labels")
    assert set(ran_on.values()) == started - {coordinator}, (ran_on, coordinator)

    (OUTPUT).mkdir(exist_ok=True)
    (OUTPUT / "stack-e2e-runs.json").write_text(
        json.dumps(
            {"analysis": analysis["id"], "batch": batch["id"], "sharded": sharded["id"]}, indent=2
        )
    )
    stack["analysis_run"] = analysis["id"]


def test_the_stack_api_asks_who_you_are(stack: dict[str, Any]) -> None:
    assert httpx.get(f"{stack['api']}/deployments/filter", timeout=30).status_code == 401
    assert httpx.post(f"{stack['api']}/deployments/filter", json={}, timeout=30).status_code in (
        401,
        403,
    )


def test_no_provider_key_in_the_server_database(stack: dict[str, Any]) -> None:
    """``grep`` the whole PostgreSQL database for the key the workers hold: not there (it
    was, in a Secret block, before the front door)."""
    dump = subprocess.run(
        ["su", "postgres", "-c", f"pg_dump {stack['database']}"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert dump.returncode == 0, dump.stderr
    assert "flow_run" in dump.stdout  # the dump holds the server's tables
    assert E2E_KEY not in dump.stdout


def test_prefect_deployment_run_takes_a_flat_path(stack: dict[str, Any]) -> None:
    """`prefect deployment run NAME --param path=...` in the stack's environment: the
    profile `stack up` configured carries the API URL and the auth string."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("prefect")), "deployment", "run",
         "document-analysis/adhoc", "--param", "path=examples/sample.md"],
        env=stack["env"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = re.search(r"UUID: ([0-9a-f-]{36})", done.stdout)
    assert run_id, done.stdout
    finished = wait_for(stack, run_id.group(1), "document-analysis/adhoc")
    assert finished["state"]["type"] == "COMPLETED", finished["state"]
    assert finished["parameters"] == {"path": "examples/sample.md"}


class Listener:
    """Records every request that reaches it (it should see none)."""

    def __init__(self) -> None:
        seen: list[dict[str, str]] = []
        self.requests = seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                seen.append(dict(self.headers.items()))
                self.send_response(500)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.api_base = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


def test_a_run_pointing_at_a_listener_is_refused(stack: dict[str, Any]) -> None:
    listener = Listener()
    try:
        found = api(stack, "GET", "/deployments/name/document-analysis/adhoc")
        create = f"/deployments/{found['id']}/create_flow_run"
        # A base URL is no parameter of any form (tests/security/test_keys_stay_home.py
        # shows the flows refuse one). A model outside the operator's list is no choice of
        # the Run form's `model`: the server refuses the run (409, naming the field); were
        # the schema not enforced, the run fails naming the list.
        outside = request(stack, "POST", create, json={"parameters": {
            "path": "examples/sample.md", "model": "openai/gpt-4o-mini"}})  # fmt: skip
        if outside.status_code == 409:
            assert "model" in outside.text, outside.text
        else:
            outside.raise_for_status()
            failed = wait_for(stack, outside.json()["id"], "document-analysis/adhoc")
            assert failed["state"]["type"] == "FAILED"
            assert "EIGHTFLOW_ALLOWED_MODELS" in failed["state"]["message"]
        # Nor can the run's job variables repoint the worker's environment.
        env = {"EIGHTFLOW_API_BASE": listener.api_base, "EIGHTFLOW_MODEL": "openai/gpt-4o-mini"}
        response = request(
            stack, "POST", create, json={"parameters": {"path": "examples/sample.md"},
                                         "job_variables": {"env": env}},
        )  # fmt: skip
        if response.is_success:
            done = wait_for(stack, response.json()["id"], "document-analysis/adhoc")
            assert done["state"]["type"] == "COMPLETED", done["state"]
        assert listener.requests == []
    finally:
        listener.server.shutdown()


def test_a_path_outside_the_root_is_refused_naming_it(stack: dict[str, Any]) -> None:
    run = run_deployment(stack, "document-analysis/adhoc", {"path": "/etc/hostname"})
    assert run["state"]["type"] == "FAILED"
    assert str(ROOT) in run["state"]["message"]
    run = run_deployment(stack, "batch-documents/nightly", {"out": "prompts"})
    assert run["state"]["type"] == "FAILED" and "prompts" in run["state"]["message"]
    assert not (ROOT / "prompts" / "report.md").exists()


def _browser(p: Any, require: Require) -> Any:
    chromium = chromium_path()
    require(chromium is not None, "Debian's chromium is not installed")
    return p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)


def _login(page: Any, stack: dict[str, Any]) -> None:
    log_in(page, stack["url"], stack["auth"])


def test_the_run_form_is_flat_and_starts_a_run(stack: dict[str, Any], require: Require) -> None:
    from playwright import sync_api as playwright

    found = api(stack, "GET", "/deployments/name/document-analysis/adhoc")
    before = {r["id"] for r in api(stack, "POST", "/flow_runs/filter", json={})}
    OUTPUT.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = _browser(p, require)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _login(page, stack)
        page.goto(
            f"{stack['url']}/deployments/deployment/{found['id']}/run", wait_until="networkidle"
        )
        page.get_by_text("path", exact=True).first.wait_for(timeout=60_000)
        body = page.inner_text("body")
        page.screenshot(path=str(OUTPUT / "run-form.png"), full_page=True)
        page.locator("textarea").first.fill("examples/triage/harbour-cycle-club-faq.md")
        page.get_by_role("button", name="Submit").last.click()
        page.wait_for_url(lambda url: "/run" not in url, timeout=60_000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(OUTPUT / "run-form-submitted.png"), full_page=True)
        browser.close()
    assert "model (Optional)" in body and "EIGHTFLOW_ALLOWED_MODELS" in body  # descriptions
    assert "params" not in body.split()
    runs = api(stack, "POST", "/flow_runs/filter", json={})
    new = [r for r in runs if r["id"] not in before]
    assert new, "the form started no run"
    assert new[0]["parameters"]["path"] == "examples/triage/harbour-cycle-club-faq.md"
    done = wait_for(stack, new[0]["id"], "document-analysis/adhoc")
    assert done["state"]["type"] == "COMPLETED", done["state"]


def test_report_visible_in_a_real_browser(stack: dict[str, Any], require: Require) -> None:
    from playwright import sync_api as playwright

    run_id = stack.get("analysis_run")
    if run_id is None:
        analysis = run_deployment(stack, "document-analysis/adhoc", {"path": "examples/sample.md"})
        run_id = analysis["id"]
    report = artifacts_of(stack, run_id)["document-analysis-report"]
    OUTPUT.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = _browser(p, require)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _login(page, stack)
        page.goto(f"{stack['url']}/runs/flow-run/{run_id}", wait_until="networkidle")
        page.get_by_text("document-analysis", exact=False).first.wait_for(timeout=30_000)
        page.screenshot(path=str(OUTPUT / "flow-run.png"), full_page=True)
        page.goto(f"{stack['url']}/artifacts/artifact/{report['id']}", wait_until="networkidle")
        page.get_by_text("Steps", exact=False).first.wait_for(timeout=30_000)
        text = page.inner_text("body")
        page.screenshot(path=str(OUTPUT / "report-artifact.png"), full_page=True)
        browser.close()
    assert "summarization" in text and "topic_extraction" in text
    assert (OUTPUT / "report-artifact.png").stat().st_size > 10_000
