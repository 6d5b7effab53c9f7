"""Every link eightflow prints or writes into the Prefect UI, built in one place.

Prefect 3.9's server serves two UIs: v1 at ``/`` and v2 at ``/v2``. Seen in headless
Chromium (``tests/server/test_ui_links_e2e.py``), v2 is the one people can work in:

- a markdown artifact's ```` ```mermaid ```` block is drawn as a diagram and its tables as
  tables (v1 shows the Mermaid source as text);
- a paused or suspended run's *Resume* (the run page's menu) opens the typed form in a
  dialog as wide as the page (v1 squeezes a proposed output into a 104 px box).

So every link goes to v2, and Prefect's own "View at ..." log line does too: the UI URL
eightflow configures (``PREFECT_UI_URL``, :func:`ui_base_url`) is the server's root plus
``/v2``, and Prefect appends the same page paths (``runs/flow-run/<id>``) to it.

A UI URL that already has a path (``/v2``, or Prefect Cloud's
``/account/<id>/workspace/<id>``) is used as it is; a bare server root gets ``/v2``.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

#: The UI version every link opens (the server's path prefix for it).
UI_VERSION_PATH = "/v2"

#: Page paths below the UI's base, one per kind of object (Prefect's own for runs).
PAGES = {
    "flow-run": "runs/flow-run/{id}",
    "task-run": "runs/task-run/{id}",
    "artifact": "artifacts/artifact/{id}",
    "deployment": "deployments/deployment/{id}",
}

PageKind = Literal["flow-run", "task-run", "artifact", "deployment"]


def ui_base_url(server_url: str | None) -> str | None:
    """The UI base for a server's root URL (``http://host:port`` -> ``.../v2``); a URL
    that already names a path is kept as it is."""
    if not server_url:
        return None
    url = str(server_url).rstrip("/")
    if urlsplit(url).path in ("", "/"):
        return f"{url}{UI_VERSION_PATH}"
    return url


def configured_ui_base() -> str | None:
    """The UI base of the Prefect API this process uses (its ``PREFECT_UI_URL``, or the
    API URL without ``/api``), on the chosen UI version; None when no UI is known."""
    from prefect.settings import get_current_settings

    return ui_base_url(get_current_settings().ui_url)


def ui_link(kind: PageKind, object_id: Any, base: str | None = None) -> str | None:
    """The UI page of one object (``base``: the UI base; default, the configured one)."""
    if not object_id:
        return None
    root = ui_base_url(base) if base else configured_ui_base()
    return f"{root}/{PAGES[kind].format(id=object_id)}" if root else None


def flow_run_url(flow_run_id: str | None) -> str | None:
    """A flow run's page (its graph, logs, artifacts; *Resume* when it waits for input)."""
    return ui_link("flow-run", flow_run_id)


def task_run_url(task_run_id: str | None) -> str | None:
    """A task run's page."""
    return ui_link("task-run", task_run_id)


def artifact_url(artifact_id: Any) -> str | None:
    """An artifact's page (markdown and Mermaid rendered)."""
    return ui_link("artifact", artifact_id)
