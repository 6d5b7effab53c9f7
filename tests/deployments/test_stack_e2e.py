"""The stack end to end: PostgreSQL, two workers, deployments triggered as the UI does,
artifacts read back, and the report seen in a real browser (headless Chromium).

Marked e2e: it starts PostgreSQL, a Prefect server and workers, and takes a few minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
pytestmark = pytest.mark.e2e
WORKER_LABEL = "prefect.worker.name"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eightflow(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("eightflow")
    return subprocess.run(
        [str(exe), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


WORKERS = 3  # the batch-sharded coordinator takes one worker, each of the 2 shards another
Require = Callable[[bool, str], None]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, require: Require) -> Iterator[dict[str, Any]]:
    require(os.geteuid() == 0, "the stack e2e runs as root, as on CI")
    require(shutil.which("pg_ctlcluster") is not None, "PostgreSQL 15 (pg_ctlcluster)")
    from deployments.postgres import drop_database, ensure_postgres

    # One database per session: two e2e runs on one machine must not drop each other's.
    name = f"eightflow_e2e_{os.getpid()}"
    database = ensure_postgres(database=name, fresh=True)
    home = tmp_path_factory.mktemp("stack-home")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "EIGHTFLOW_HOME": str(home),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "EIGHTFLOW_AUTO_SERVER": "0",
        }
    )
    up = eightflow(
        "stack",
        "up",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--postgres",
        database,
        env=env,
        timeout=600,
    )
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        yield {
            "port": port,
            "url": f"http://127.0.0.1:{port}",
            "env": env,
            "api": f"http://127.0.0.1:{port}/api",
            "home": home,
        }
    finally:
        down = eightflow("stack", "down", env=env, timeout=120)
        drop_database(name)
        assert down.returncode == 0, down.stdout + down.stderr
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, "server port still listening"


def api(stack: dict[str, Any], method: str, path: str, **kw: Any) -> Any:
    response = httpx.request(method, stack["api"] + path, timeout=30, **kw)
    response.raise_for_status()
    return response.json() if response.content else None


def run_deployment(stack: dict[str, Any], name: str, params: dict[str, Any]) -> dict[str, Any]:
    """What the UI's Run button does: create a flow run from the deployment, then wait."""
    flow_name, deployment = name.split("/")
    found = api(stack, "GET", f"/deployments/name/{flow_name}/{deployment}")
    run = api(
        stack,
        "POST",
        f"/deployments/{found['id']}/create_flow_run",
        json={"parameters": {"params": params}},
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        current = api(stack, "GET", f"/flow_runs/{run['id']}")
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

    out = stack["home"] / "batch-out"
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

    sharded_out = stack["home"] / "sharded-out"
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


def test_report_visible_in_a_real_browser(stack: dict[str, Any], require: Require) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(chromium is not None, "Debian's chromium is not installed")
    assert chromium is not None
    from playwright import sync_api as playwright

    run_id = stack.get("analysis_run")
    if run_id is None:
        analysis = run_deployment(stack, "document-analysis/adhoc", {"path": "examples/sample.md"})
        run_id = analysis["id"]
    report = artifacts_of(stack, run_id)["document-analysis-report"]
    OUTPUT.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
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
