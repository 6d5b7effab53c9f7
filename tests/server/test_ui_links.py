"""Every UI link eightflow prints or writes is built by eightflow.server.ui_links, on v2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eightflow.server import ui_links
from eightflow.server.ui_links import ui_base_url, ui_link

ROOT = Path(__file__).resolve().parents[2]
# A UI page path written anywhere but the helper would be a second link builder.
PAGE_PATH = re.compile(r"runs/flow-run|runs/task-run|artifacts/artifact|deployments/deployment/")
SOURCES = ("eightflow", "flows", "tasks", "deployments")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:4200", "http://127.0.0.1:4200/v2"),
        ("http://127.0.0.1:4200/", "http://127.0.0.1:4200/v2"),
        ("http://127.0.0.1:4200/v2", "http://127.0.0.1:4200/v2"),
        ("http://127.0.0.1:4200/v2/", "http://127.0.0.1:4200/v2"),
        (
            "https://app.prefect.cloud/account/a/workspace/w",
            "https://app.prefect.cloud/account/a/workspace/w",
        ),
        (None, None),
        ("", None),
    ],
)
def test_the_ui_base_is_the_v2_ui_of_a_bare_server_root(
    given: str | None, expected: str | None
) -> None:
    assert ui_base_url(given) == expected


@pytest.mark.parametrize(
    ("kind", "page"),
    [
        ("flow-run", "runs/flow-run/abc"),
        ("task-run", "runs/task-run/abc"),
        ("artifact", "artifacts/artifact/abc"),
        ("deployment", "deployments/deployment/abc"),
    ],
)
def test_each_page_kind_is_a_path_below_the_v2_base(kind: str, page: str) -> None:
    assert ui_link(kind, "abc", base="http://h:1") == f"http://h:1/v2/{page}"  # type: ignore[arg-type]


@pytest.mark.parametrize("missing", [None, ""])
def test_no_object_no_link(missing: str | None) -> None:
    assert ui_link("flow-run", missing, base="http://h:1") is None


@pytest.mark.parametrize(
    ("builder", "page"),
    [
        (ui_links.flow_run_url, "runs/flow-run"),
        (ui_links.task_run_url, "runs/task-run"),
        (ui_links.artifact_url, "artifacts/artifact"),
    ],
)
def test_links_follow_the_configured_ui_and_match_prefects_view_at(
    builder: object, page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the UI URL eightflow sets, our link is Prefect's own ``url_for`` link (the
    "View at" log line): one UI version for both."""
    from prefect.settings import PREFECT_UI_URL, temporary_settings
    from prefect.utilities.urls import url_for

    with temporary_settings({PREFECT_UI_URL: ui_base_url("http://127.0.0.1:4999")}):
        link = builder("1234")  # type: ignore[operator]
        assert link == f"http://127.0.0.1:4999/v2/{page}/1234"
        if page.startswith("runs/"):
            assert url_for(page.split("/")[1], obj_id="1234") == link


def test_use_server_points_prefect_ui_url_at_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from eightflow.server.auth import use_server

    environ = {k: v for k, v in os.environ.items() if k != "PREFECT_UI_URL"}
    monkeypatch.setattr(os, "environ", environ)  # use_server writes this process's variables
    use_server("http://127.0.0.1:4300/api", "http://127.0.0.1:4300")
    assert environ["PREFECT_UI_URL"] == "http://127.0.0.1:4300/v2"


def test_the_stack_gives_workers_the_front_doors_v2_ui(home: Path) -> None:
    from eightflow_app.deployments.stack import stack_env

    env = stack_env("http://127.0.0.1:5001/api", home, public_url="http://127.0.0.1:4200")
    assert env["PREFECT_UI_URL"] == "http://127.0.0.1:4200/v2"


def test_the_local_server_writes_v2_links_too(home: Path) -> None:
    from eightflow.server.local import LocalServer

    env = LocalServer(home=home, port=4321).server_env()
    assert env["PREFECT_UI_URL"] == "http://127.0.0.1:4321/v2"


def _python_files() -> list[Path]:
    return [p for top in SOURCES for p in sorted((ROOT / top).rglob("*.py"))]


def test_no_module_but_the_helper_builds_a_ui_page_path() -> None:
    builders = [
        str(path.relative_to(ROOT))
        for path in _python_files()
        if path.name != "ui_links.py" and PAGE_PATH.search(path.read_text(encoding="utf-8"))
    ]
    assert builders == []


def test_no_module_but_the_helper_reads_prefects_ui_url() -> None:
    readers = [
        str(path.relative_to(ROOT))
        for path in _python_files()
        if path.name != "ui_links.py"
        and ".ui_url" in path.read_text(encoding="utf-8")
        and "get_current_settings" in path.read_text(encoding="utf-8")
    ]
    assert readers == []


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        (None, "http://127.0.0.1:4555/v2"),  # derived from the API URL, on v2
        ("https://ui.example/v2", "https://ui.example/v2"),  # the user's own is kept
    ],
)
def test_a_configured_api_gets_the_same_ui_version_for_prefects_lines(
    preset: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from eightflow.server import prefect_env

    environ = {k: v for k, v in os.environ.items() if k != "PREFECT_UI_URL"}
    environ["PREFECT_API_URL"] = "http://127.0.0.1:4555/api"
    if preset:
        environ["PREFECT_UI_URL"] = preset
    monkeypatch.setattr(os, "environ", environ)
    monkeypatch.setattr(prefect_env, "_connection", None)
    connection = prefect_env.connect()
    assert (connection.mode, connection.ui_url) == ("configured", expected)
    assert environ["PREFECT_UI_URL"] == expected
