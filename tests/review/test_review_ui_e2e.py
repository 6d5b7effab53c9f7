"""A person fills in the review form in the Prefect UI (headless Chromium) and the paused
run continues with their edit.

Marked e2e: it starts its own Prefect server (a free port, a private home) and runs
``eightflow run ... --review-below`` in a child process, as a user would.
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
OUTPUT = ROOT / "test-output"
FLAGGED = ROOT / "examples" / "documents" / "kestrel-remote-work-faq.md"
pytestmark = pytest.mark.e2e


def embedded_sentiment(path: Path) -> dict[str, Any]:
    """What the embedded model says of a document (the tests follow it, not a copy)."""
    from eightflow_app.tasks.loading import load_document

    from eightflow.embedded.engine import EmbeddedModel

    return EmbeddedModel().respond("sentiment", load_document(path).text)


def other_label(label: str) -> str:
    return "negative" if label != "negative" else "positive"


PROPOSED = embedded_sentiment(FLAGGED)  # its confidence is below 0.6
EDITED = other_label(PROPOSED["label"])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    from eightflow.server.local import LocalServer

    home = tmp_path / "home"
    local = LocalServer(home=home, port=free_port())
    status = local.start(timeout=120)
    try:
        yield {"home": home, "url": status["url"], "api_url": status["api_url"]}
    finally:
        local.stop()


def choose(page: Any, dialog: Any, current: str, wanted: str) -> None:
    """Pick ``wanted`` in the form's select showing ``current`` (opened from the keyboard:
    the design system's select opens on ArrowDown)."""
    import re

    dialog.locator(f"button[modelvalue='{current}']").focus()
    page.keyboard.press("ArrowDown")
    page.locator("[role=option]").filter(has_text=re.compile(f"^{wanted}$")).click()
    dialog.locator(f"button[modelvalue='{wanted}']").wait_for(timeout=10_000)


def fill_and_submit(url: str, chromium: str, auth: str) -> str:
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        log_in(page, url.split("/runs/")[0], auth)  # the UI's root leads to its login page
        page.goto(url, wait_until="networkidle")
        page.get_by_role("button", name="Resume").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Why:").wait_for(timeout=30_000)
        shown = dialog.inner_text()
        choose(page, dialog, "approve", "edit")
        choose(page, dialog, PROPOSED["label"], EDITED)
        dialog.locator("input[type=number]").fill("0")
        notes = dialog.locator("textarea")
        notes.nth(0).fill("a FAQ is factual")
        notes.nth(1).fill("ana")
        page.screenshot(path=str(OUTPUT / "review-form.png"), full_page=True)
        dialog.get_by_role("button", name="Submit").click()
        page.get_by_role("dialog").wait_for(state="hidden", timeout=30_000)
        browser.close()
    return shown


def test_reviewer_edits_in_the_ui_and_the_run_continues(
    server: dict[str, Any], require: Callable[[bool, str], None]
) -> None:
    chromium = chromium_path()
    require(chromium is not None, "Debian's chromium (apt-get install -y chromium)")
    import playwright.sync_api  # noqa: F401  (a dev dependency: missing fails, never skips)

    assert chromium is not None
    from eightflow.server.auth import auth_string, client_env

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "PREFECT_API_URL": server["api_url"],
            "EIGHTFLOW_HOME": str(server["home"]),
            "EIGHTFLOW_AUTO_SERVER": "0",
            "EIGHTFLOW_REVIEW_POLL_S": "1",
            "PYTHONPATH": str(ROOT),
            **client_env(server["home"]),  # the server's auth string
        }
    )
    command = [sys.executable, "-m", "eightflow.cli.main", "run", "document_analysis"]
    command += [str(FLAGGED), "--review-below", "0.6", "--json"]
    child = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        review = pending_review(server["home"])
        url = f"{server['url']}/runs/flow-run/{review['flow_run_id']}"
        shown = fill_and_submit(url, chromium, auth_string(create=False, home=server["home"]) or "")
        stdout, stderr = child.communicate(timeout=180)
    finally:
        if child.poll() is None:
            child.kill()
    # The form showed what the model produced and why review was asked.
    assert f"sentiment.confidence {PROPOSED['confidence']:.3f} < 0.6" in shown
    assert f'"label": "{PROPOSED["label"]}"' in shown
    assert child.returncode == 0, stderr[-2000:]
    result = json.loads(stdout)
    assert result["status"] == "completed"
    assert result["outputs"]["sentiment"]["label"] == EDITED
    assert result["outputs"]["sentiment"]["score"] == 0.0
    db = sqlite3.connect(server["home"] / "ledger.sqlite")
    db.row_factory = sqlite3.Row
    row = dict(db.execute("SELECT * FROM reviews").fetchone())
    db.close()
    assert (row["status"], row["reviewer"], row["decided_via"]) == ("edited", "ana", "ui")
    assert json.loads(row["edits"]) == {"label": EDITED, "score": 0.0}
    assert row["note"] == "a FAQ is factual"
