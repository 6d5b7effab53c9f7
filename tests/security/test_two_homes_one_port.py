"""Attack (by accident): a second ``EIGHTFLOW_HOME`` meets the first home's server on its
port. Prefect answers ``/api/health`` to anyone, so the second home took that server for
its own and ``eightflow analyze`` died in a ``PrefectHTTPStatusError: 401`` traceback.
Now: one line naming the port, the other home and the fix.

The first home's server is a stub on a random port that answers like Prefect's auth:
``/api/health`` to anyone, everything else 401 unless the auth string is its own."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eightflow.server.local import LocalServer
from eightflow.server.owner import ServerClashError, check_server_is_ours, record_owner

OWNER_AUTH = "eightflow:" + "ab" * 24


class _PrefectLikeAuth(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        expected = "Basic " + base64.b64encode(OWNER_AUTH.encode()).decode()
        if self.path == "/api/health" or self.headers.get("Authorization") == expected:
            status, body = 200, b"true"
        else:
            status, body = 401, json.dumps({"exception_message": "Unauthorized"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PATCH = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def first_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PrefectLikeAuth)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_server: int) -> tuple[Path, Path]:
    """Two homes; this process is the second, pointed at the first one's port."""
    first, second = tmp_path / "first-home", tmp_path / "second-home"
    first.mkdir()
    (first / "prefect-auth").write_text(OWNER_AUTH + "\n")
    (tmp_path / "run").mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("EIGHTFLOW_HOME", str(second))
    monkeypatch.setenv("EIGHTFLOW_SERVER_PORT", str(first_server))
    monkeypatch.setenv("EIGHTFLOW_SERVER_HOST", "127.0.0.1")
    monkeypatch.setenv("EIGHTFLOW_SERVER_AUTH", "1")
    monkeypatch.setenv("COLUMNS", "400")
    for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING", "PREFECT_SERVER_API_AUTH_STRING"):
        monkeypatch.delenv(name, raising=False)
    return first, second


def test_the_first_home_is_answered_as_its_own(homes: tuple[Path, Path], first_server: int) -> None:
    first, _ = homes
    check_server_is_ours("127.0.0.1", first_server, first)  # no error: the stub is faithful


@pytest.mark.parametrize(
    "command",
    [
        ["analyze", "{docs}"],
        ["run", "document_analysis", "{docs}/a.txt"],
        ["review", "decide", "0123", "--approve"],
        ["replay", "0123"],
    ],
)
@pytest.mark.parametrize("marker", [True, False])
def test_a_command_names_the_port_the_other_home_and_the_fix(
    homes: tuple[Path, Path], first_server: int, tmp_path: Path, command: list[str], marker: bool
) -> None:
    from eightflow.cli.main import app

    first, second = homes
    if marker:
        record_owner("127.0.0.1", first_server, first, os.getpid())
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The club meets on Tuesdays.\n")
    args = [part.format(docs=docs) for part in command]
    result = CliRunner().invoke(app, args)
    output = " ".join(result.output.split())  # the console may wrap the line
    assert result.exit_code == 2, result.output
    # "401" as a status, not inside a port (40195) or a temporary folder (pytest-401)
    assert "Traceback" not in result.output
    assert not re.search(r"(?<![\w-])401(?![\w-])", result.output), result.output
    assert not isinstance(result.exception, ServerClashError)  # handled, not raised
    assert f"port {first_server}" in output and "EIGHTFLOW_SERVER_PORT=" in output
    assert "eightflow server stop" in output and str(second) in output
    assert (str(first) in output) is marker
    assert result.output.count("error:") == 1 and result.output.startswith("error:")


def test_server_start_refuses_the_other_homes_server(
    homes: tuple[Path, Path], first_server: int
) -> None:
    first, _ = homes
    record_owner("127.0.0.1", first_server, first, os.getpid())
    with pytest.raises(ServerClashError, match=rf"port {first_server}.*{first}") as caught:
        LocalServer().start()
    assert "\n" not in str(caught.value)  # one line


def test_a_marker_of_a_stopped_server_is_ignored(
    homes: tuple[Path, Path], first_server: int
) -> None:
    first, _ = homes
    record_owner("127.0.0.1", first_server, first, 2**22 + 12345)  # no such process
    with pytest.raises(ServerClashError) as caught:
        LocalServer().check_ours()
    assert str(first) not in str(caught.value)
    assert "another EIGHTFLOW_HOME" in str(caught.value)


def test_a_marker_folder_that_is_not_ours_is_not_written(
    homes: tuple[Path, Path], first_server: int, tmp_path: Path
) -> None:
    first, _ = homes
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "run" / f"eightflow-{os.getuid()}").symlink_to(elsewhere)
    record_owner("127.0.0.1", first_server, first, os.getpid())
    assert list(elsewhere.iterdir()) == []
