"""Re-make the pictures in docs/images/ from a real local Prefect server, in one command.

    python docs/screenshots.py                      # every picture
    python docs/screenshots.py --only review-queue  # one phase: pages | review-queue

It starts a Prefect server on a free port with a private ``EIGHTFLOW_HOME`` (a temporary
folder: the user's own ``~/.eightflow`` is never touched), runs the example folder
(``eightflow analyze examples/documents``), one document (``eightflow run``) and one
document that pauses for review, then drives Debian's headless Chromium (through
playwright's library, with ``executable_path``; nothing is downloaded) to log in with the
server's auth string and save each page as a PNG. The review queue's picture needs the
whole stack (``eightflow stack up``: the front door, the deployments, one worker): a batch
of four documents, three below the confidence bar, leaves a suspended ``review-queue`` run,
and its form is shot as a reviewer logged in with only the runner credential sees it.
Everything it started is stopped at the end. Look at each picture after a UI change: the
captions in the docs say what it shows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: tests.support is the repo's

from tests.support.browser import CHROMIUM_ARGS, chromium_path, log_in, pending_review  # noqa: E402

IMAGES = ROOT / "docs" / "images"
DOCUMENT = ROOT / "examples" / "sample.md"
FLAGGED = ROOT / "examples" / "documents" / "kestrel-remote-work-faq.md"
VIEWPORT = {"width": 1400, "height": 900}
# The embedded model's sentiment confidence is below 0.6 for the first three, not the last
# (the same batch as tests/review/test_queue_e2e.py).
QUEUE_BATCH = ["kestrel-remote-work-faq.md", "port-averill-tram-vote.html"]
QUEUE_BATCH += ["queensway-library-kickoff.docx", "riverbend-board-minutes.md"]


def free_port() -> int:
    """A free port in 4300-4999 (never Prefect's default 4200, which a user's server may hold)."""
    for port in random.sample(range(4300, 5000), 50):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 4300-4999")


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> dict[str, Any]:
    """Run ``eightflow ARGS --json`` as a user would and return what it printed."""
    command = [sys.executable, "-m", "eightflow.cli.main", *args, "--json"]
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if not done.stdout.strip():
        raise SystemExit(f"{' '.join(args)} printed nothing:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout))


def artifact_ids(flow_run_id: str) -> dict[str, str]:
    """key -> id of the keyed artifacts a flow run published (the latest of each key)."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read() -> dict[str, str]:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])  # type: ignore[list-item]
                )
            )
        return {str(a.key): str(a.id) for a in sorted(found, key=lambda a: a.created) if a.key}

    return asyncio.run(read())


def shrink(path: Path) -> None:
    """Store the PNG with a 256-colour palette: a fraction of the size, the same to the eye."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)


class Browser:
    """One logged-in headless Chromium page that saves cropped screenshots."""

    def __init__(self, chromium: str, base_url: str, auth: str) -> None:
        from playwright.sync_api import sync_playwright

        self.base_url = base_url
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        self.page = self._browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
        log_in(self.page, base_url, auth)

    def shoot(self, path: str, name: str, ready: Callable[[Any], None] | None = None) -> Path:
        self.page.goto(self.base_url + path, wait_until="networkidle")
        if ready:
            ready(self.page)
        self.page.wait_for_timeout(2500)  # charts and the graph animate in
        target = IMAGES / name
        self.page.screenshot(path=str(target))
        shrink(target)
        print(f"wrote {target.relative_to(ROOT)}")
        return target

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


def show_graph_section(page: Any) -> None:
    """Scroll the report so its Mermaid graph (coloured by outcome) and step table show."""
    heading = page.get_by_role("heading", name="Graph", exact=True).first
    heading.wait_for(timeout=30_000)
    page.locator("svg[id^=mermaid], .mermaid svg, svg[aria-roledescription]").first.wait_for(
        timeout=30_000
    )
    heading.evaluate("e => e.scrollIntoView({block: 'start'})")


def open_review_form(page: Any) -> None:
    page.get_by_role("button", name="Resume").first.click()
    page.get_by_role("dialog").get_by_text("Why:").wait_for(timeout=30_000)


def shoot_pages(chromium: str, scratch: Path) -> None:
    """The run, report, batch and single-review pictures, from a plain local server."""
    home = scratch / "home"  # outputs may not go inside EIGHTFLOW_HOME
    os.environ["EIGHTFLOW_HOME"] = str(home)
    from eightflow.server.local import LocalServer

    server = LocalServer(home=home, port=free_port())
    status = server.start(timeout=120)
    child: subprocess.Popen[str] | None = None
    try:
        from eightflow.server.auth import auth_string, client_env

        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(
            {
                "PREFECT_API_URL": status["api_url"],
                "PREFECT_UI_URL": status["url"],
                "EIGHTFLOW_HOME": str(home),
                "EIGHTFLOW_AUTO_SERVER": "0",
                "EIGHTFLOW_REVIEW_POLL_S": "1",
                "PYTHONPATH": str(ROOT),
                **client_env(home),
            }
        )
        os.environ.update({k: v for k, v in env.items() if k.startswith("PREFECT_")})
        batch = cli(env, "analyze", "examples/documents", "--out", str(scratch / "out"))
        single = cli(env, "run", "document_analysis", str(DOCUMENT))
        command = [sys.executable, "-m", "eightflow.cli.main", "run", "document_analysis"]
        child = subprocess.Popen(
            [*command, str(FLAGGED), "--review-below", "0.6", "--json"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        review = pending_review(home, timeout=240)
        IMAGES.mkdir(parents=True, exist_ok=True)
        single_run = str(single.get("flow_run_id") or single["ui_url"].rsplit("/", 1)[-1])
        batch_run = str(batch.get("flow_run_id") or batch["ui_url"].rsplit("/", 1)[-1])
        single_artifacts = artifact_ids(single_run)
        batch_artifacts = artifact_ids(batch_run)
        print("artifacts:", sorted(single_artifacts), sorted(batch_artifacts))
        report = single_artifacts["document-analysis-report"]
        # the compact table people read first (its "-full" twin holds every column)
        results = next(i for k, i in batch_artifacts.items() if k.endswith("-results"))
        summary = next(i for k, i in batch_artifacts.items() if k.endswith("-summary"))
        browser = Browser(chromium, status["url"], auth_string(create=False, home=home) or "")
        try:
            # The v1 run page draws the task graph with each task's name.
            browser.shoot(f"/runs/flow-run/{single_run}", "run-page.png")
            browser.shoot(
                f"/v2/artifacts/artifact/{report}", "report-artifact.png", show_graph_section
            )
            browser.shoot(f"/runs/flow-run/{batch_run}", "batch-run-page.png")
            browser.shoot(f"/v2/artifacts/artifact/{results}", "batch-results-artifact.png")
            browser.shoot(f"/v2/artifacts/artifact/{summary}", "batch-summary-artifact.png")
            browser.shoot(
                f"/runs/flow-run/{review['flow_run_id']}", "review-form.png", open_review_form
            )
        finally:
            browser.close()
        decide = [*command[:3], "review", "decide", review["review_id"], "--approve"]
        subprocess.run(decide, env=env, cwd=ROOT, capture_output=True, timeout=120)
        child.wait(timeout=180)
    finally:
        if child is not None and child.poll() is None:
            child.kill()
        server.stop()


def open_queue_form(page: Any) -> None:
    """Press Resume on the suspended queue run: its form lists the pending items."""
    page.get_by_role("button", name="Resume").first.click()
    page.get_by_role("dialog").get_by_text("outputs wait for a person").wait_for(timeout=60_000)


def suspended_queue_run(api_url: str, auth: str, timeout: float = 300) -> str:
    """The batch's review-queue run, once its worker has run it up to its form (state
    Suspended); the client handles the front door's auth and CSRF."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + timeout
    flows = FlowFilter(name=FlowFilterName(any_=["review-queue"]))
    with temporary_settings({PREFECT_API_URL: api_url, PREFECT_API_AUTH_STRING: auth}):
        while time.monotonic() < deadline:
            with get_client(sync_client=True) as client:
                runs = client.read_flow_runs(flow_filter=flows)
            found = [r for r in runs if r.state is not None and r.state.name == "Suspended"]
            if found:
                return str(found[0].id)
            time.sleep(1)
    raise SystemExit(f"no review-queue run suspended within {timeout:.0f} s")


def shoot_review_queue(chromium: str, scratch: Path) -> None:
    """docs/images/review-queue.png: a batch's suspended review queue, its form open, as a
    reviewer with the runner credential sees it (a private stack, stopped at the end)."""
    home, work = scratch / "stack-home", scratch / "queue"
    docs = work / "docs"
    docs.mkdir(parents=True)
    for name in QUEUE_BATCH:
        shutil.copy(ROOT / "examples" / "documents" / name, docs / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "EIGHTFLOW_HOME": str(home),
            "PREFECT_HOME": str(scratch / "stack-prefect-home"),
            "PREFECT_PROFILES_PATH": str(scratch / "stack-prefect-home" / "profiles.toml"),
            "EIGHTFLOW_AUTO_SERVER": "0",
            "EIGHTFLOW_DATA_ROOTS": str(work),
            "EIGHTFLOW_OUT_ROOT": str(work),
            "PYTHONPATH": str(ROOT),
        }
    )
    env.pop("EIGHTFLOW_ALLOWED_MODELS", None)
    port = free_port()
    stack = [sys.executable, "-m", "eightflow.cli.main", "stack"]
    up = subprocess.run(
        [*stack, "up", "--port", str(port), "--workers", "1"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    try:
        if up.returncode != 0:
            raise SystemExit(f"eightflow stack up failed:\n{(up.stdout + up.stderr)[-2000:]}")
        url = f"http://127.0.0.1:{port}"
        admin = (home / "prefect-auth").read_text().strip()
        shell = {**env, "PREFECT_API_URL": f"{url}/api", "PREFECT_API_AUTH_STRING": admin}
        cli(shell, "analyze", str(docs), "--review-below", "0.6", "--out", str(work / "out"))
        queue_run = suspended_queue_run(f"{url}/api", admin)
        IMAGES.mkdir(parents=True, exist_ok=True)
        browser = Browser(chromium, url, (home / "runner-auth").read_text().strip())
        try:
            browser.shoot(f"/runs/flow-run/{queue_run}", "review-queue.png", open_queue_form)
        finally:
            browser.close()
    finally:
        subprocess.run([*stack, "down"], env=env, cwd=ROOT, capture_output=True, timeout=300)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="Keep the temporary home and outputs.")
    parser.add_argument(
        "--only",
        choices=["pages", "review-queue"],
        help="One phase: the server's pages, or the review queue (needs the stack).",
    )
    args = parser.parse_args()
    chromium = chromium_path()
    if not chromium:
        raise SystemExit("needs Debian's chromium: apt-get install -y chromium")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    scratch = Path(tempfile.mkdtemp(prefix="eightflow-screens-"))
    try:
        if args.only in (None, "review-queue"):
            shoot_review_queue(chromium, scratch)  # first: its own stack, its own env
        if args.only in (None, "pages"):
            shoot_pages(chromium, scratch)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
