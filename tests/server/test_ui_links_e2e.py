"""The links eightflow writes open the v2 UI, and there people can read and act (Chromium).

Measured against a real local server (a free port, a private home):

- the review link eightflow writes for a paused run opens its v2 page, whose menu's
  *Resume* shows the typed review form in a wide dialog; submitting it continues the run;
- the run's report artifact draws its Mermaid graph on v2 (v1 shows the source as text);
- a batch's compact results table fits the artifact pane of a 1,440 px window.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM_ARGS, chromium_path, log_in, pending_review
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
FLAGGED = ROOT / "examples" / "documents" / "kestrel-remote-work-faq.md"
MERMAID = "svg[id^=mermaid], .mermaid svg, svg[aria-roledescription]"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from eightflow.server.auth import auth_string, client_env
    from eightflow.server.local import LocalServer

    scratch = tmp_path_factory.mktemp("ui-links")
    home = scratch / "home"
    local = LocalServer(home=home, port=free_port())
    status = local.start(timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "PREFECT_API_URL": status["api_url"],
            "EIGHTFLOW_HOME": str(home),
            "EIGHTFLOW_AUTO_SERVER": "0",
            "EIGHTFLOW_REVIEW_POLL_S": "1",
            "PYTHONPATH": str(ROOT),
            **client_env(home),
        }
    )
    try:
        yield {
            "home": home,
            "scratch": scratch,
            "url": status["url"],
            "env": env,
            "auth": auth_string(create=False, home=home) or "",
        }
    finally:
        local.stop()


def eightflow(stack: dict[str, Any], *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "eightflow.cli.main", *args]
    return subprocess.Popen(
        command, env=stack["env"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def artifacts_of(stack: dict[str, Any], flow_run_id: str) -> dict[str, str]:
    """Key -> id of a flow run's keyed artifacts, read with Prefect's (sync) client: the
    browser's event loop runs in this thread."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    settings = {PREFECT_API_URL: f"{stack['url']}/api", PREFECT_API_AUTH_STRING: stack["auth"]}
    with temporary_settings(settings), get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])  # type: ignore[list-item]
            )
        )
    return {str(a.key): str(a.id) for a in sorted(found, key=lambda a: a.created) if a.key}


@pytest.fixture(scope="module")
def browser(stack: dict[str, Any]) -> Iterator[Any]:
    chromium = chromium_path()
    if chromium is None:
        pytest.fail("needs Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = launched.new_page(viewport={"width": 1440, "height": 1000})
        log_in(page, stack["url"], stack["auth"])
        yield page
        launched.close()


def test_the_review_link_opens_v2_where_resume_shows_a_wide_form(
    stack: dict[str, Any], browser: Any, require: Callable[[bool, str], None]
) -> None:
    child = eightflow(stack, "run", "document_analysis", str(FLAGGED), "--review-below", "0.6",
                      "--json")  # fmt: skip
    try:
        review = pending_review(stack["home"])
        link = review["link"]
        assert link.startswith(f"{stack['url']}/v2/runs/flow-run/{review['flow_run_id']}")
        browser.goto(link, wait_until="networkidle")
        browser.get_by_role("button", name="Open menu").first.click()
        browser.get_by_role("menuitem", name="Resume").click()
        dialog = browser.get_by_role("dialog")
        dialog.get_by_text("Why:").wait_for(timeout=30_000)
        width = dialog.evaluate("e => e.getBoundingClientRect().width")
        shown = dialog.inner_text()
        browser.screenshot(path=str(stack["scratch"] / "v2-resume.png"))
        dialog.get_by_role("button", name="Resume").click()
        dialog.wait_for(state="hidden", timeout=30_000)
        stdout, stderr = child.communicate(timeout=180)
    finally:
        if child.poll() is None:
            child.kill()
    print(f"v2 review dialog: {width:.0f} px wide")
    assert width >= 400, f"the review form is squeezed into {width:.0f} px"
    assert "sentiment.confidence" in shown and "label" in shown.lower()
    assert child.returncode == 0, stderr[-2000:]
    result = json.loads(stdout)
    assert result["ui_url"].startswith(f"{stack['url']}/v2/runs/flow-run/")
    stack["single_run"] = result["ui_url"].rsplit("/", 1)[-1]
    db = sqlite3.connect(stack["home"] / "ledger.sqlite")
    status = db.execute("SELECT status, decided_via FROM reviews").fetchone()
    db.close()
    assert status == ("approved", "ui")


def test_the_report_draws_its_mermaid_graph_on_v2(stack: dict[str, Any], browser: Any) -> None:
    run = stack.get("single_run")
    if run is None:
        pytest.fail("the review test's run did not complete")
    report = artifacts_of(stack, run)["document-analysis-report"]
    from eightflow.server.ui_links import ui_link

    browser.goto(ui_link("artifact", report, base=stack["url"]), wait_until="networkidle")
    browser.locator(MERMAID).first.wait_for(timeout=30_000)


def test_the_compact_results_table_fits_a_1440_px_window(
    stack: dict[str, Any], browser: Any
) -> None:
    out = stack["scratch"] / "out"
    child = eightflow(stack, "analyze", "examples/documents", "--out", str(out), "--json")
    stdout, stderr = child.communicate(timeout=600)
    assert child.returncode == 0, stderr[-2000:]
    brief = json.loads(stdout)
    assert brief["ui_url"].startswith(f"{stack['url']}/v2/runs/flow-run/")
    keys = artifacts_of(stack, brief["ui_url"].rsplit("/", 1)[-1])
    results = next(i for k, i in keys.items() if k.endswith("-results"))
    from eightflow.server.ui_links import ui_link

    browser.goto(ui_link("artifact", results, base=stack["url"]), wait_until="networkidle")
    table = browser.locator("table").first
    table.wait_for(timeout=30_000)
    browser.wait_for_timeout(1000)
    measured = table.evaluate(
        """t => {
            const scrolled = [];
            for (let e = t.parentElement; e && e !== document.body; e = e.parentElement) {
                if (e.scrollWidth > e.clientWidth + 1) scrolled.push(e.scrollWidth - e.clientWidth);
            }
            return {table: t.getBoundingClientRect().width, scrolled: scrolled,
                    page: document.documentElement.scrollWidth};
        }"""
    )
    browser.screenshot(path=str(stack["scratch"] / "v2-results.png"), full_page=True)
    print(f"results table at 1440 px: {measured}")
    assert measured["page"] <= 1440, measured
    assert measured["scrolled"] == [], measured  # no pane scrolls sideways
