"""Run the stub server in a child process and steer it over HTTP.

Benchmarks measure eightflow's own overhead; an in-process stub would compete with the
code under test for the GIL and skew the numbers. A child process has its own interpreter,
and because every control operation goes over HTTP (``/_stub/stats`` etc.), the harness —
or any other process, such as a worker that a fault-injection test kills — sees the same
counters.
"""

from __future__ import annotations

import atexit
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from tests.support.stub_server import (
    DEFAULT_HISTORY_LIMIT,
    StubConfig,
    StubControlError,
    http_json,
)

__all__ = ["StubProcess", "StubStartError", "start_stub_process"]

# The directory that contains the ``eightflow`` package; put on the child's PYTHONPATH so
# ``-m tests.support.stub_server`` resolves to this very code even from a checkout
# that is not pip-installed.
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class StubStartError(RuntimeError):
    """The stub subprocess exited or stayed silent instead of printing ``READY <url>``."""


class StubProcess:
    """Handle on a stub server running in a child process (see :func:`start_stub_process`).

    Stop it with :meth:`stop` or use it as a context manager; as a last resort an
    ``atexit`` hook and the child's ``--exit-with-parent`` watch make sure no stub
    outlives the harness.
    """

    def __init__(self, process: subprocess.Popen[str], url: str, stderr: IO[bytes]) -> None:
        self.process = process
        self.url = url
        self._stderr = stderr
        atexit.register(self._atexit)

    # -- addresses -----------------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def api_base(self) -> str:
        """What to pass as litellm's ``api_base`` (with ``model="openai/..."``)."""
        return self.url + "/v1"

    # -- control over HTTP ---------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = http_json("GET", self.url + "/_stub/stats")
        return result

    def reset(self) -> None:
        http_json("POST", self.url + "/_stub/reset", {})

    def configure(self, **changes: Any) -> StubConfig:
        """Merge ``changes`` into the child's config; raises :class:`StubControlError`
        (HTTP 400) if the result does not validate."""
        return StubConfig.model_validate(http_json("POST", self.url + "/_stub/config", changes))

    @property
    def config(self) -> StubConfig:
        return StubConfig.model_validate(http_json("GET", self.url + "/_stub/config"))

    def history(self, limit: int = 100) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = http_json("GET", f"{self.url}/_stub/history?limit={limit}")
        return result

    def is_running(self) -> bool:
        return self.process.poll() is None

    # -- lifecycle -----------------------------------------------------------------------

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the child, wait for it (SIGKILL after ``timeout``); returns its exit
        code. Idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        for stream in (self.process.stdout, self._stderr):
            if stream is not None and not stream.closed:
                stream.close()
        atexit.unregister(self._atexit)
        return self.process.returncode

    def _atexit(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else f"exited {self.process.returncode}"
        return f"StubProcess({self.url}, pid={self.pid}, {state})"


def _read_stderr(stderr: IO[bytes]) -> str:
    stderr.flush()
    stderr.seek(0)
    return stderr.read().decode(errors="replace").strip()


def start_stub_process(
    config: StubConfig | None = None,
    port: int = 0,
    *,
    history_limit: int = DEFAULT_HISTORY_LIMIT,
    ready_timeout: float = 30.0,
    env: dict[str, str] | None = None,
) -> StubProcess:
    """Launch ``python -m tests.support.stub_server`` with ``sys.executable`` and wait
    for its ``READY <url>`` line.

    ``port=0`` lets the child pick a free port (reported in the READY line). Raises
    :class:`StubStartError` with the child's stderr if it exits or is not ready within
    ``ready_timeout`` seconds.
    """
    config = config or StubConfig()
    child_env = dict(os.environ if env is None else env)
    python_path = child_env.get("PYTHONPATH")
    child_env["PYTHONPATH"] = (
        f"{_PACKAGE_ROOT}{os.pathsep}{python_path}" if python_path else str(_PACKAGE_ROOT)
    )
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    command = [
        sys.executable,
        "-m",
        "tests.support.stub_server",
        "--port",
        str(port),
        "--config-json",
        config.model_dump_json(),
        "--history-limit",
        str(history_limit),
        "--exit-with-parent",
    ]
    # stderr goes to a temporary file, not a pipe: nobody drains it while the stub runs,
    # and a full pipe would freeze the child.
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - owned by the StubProcess
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=child_env,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: lines.put(process.stdout.readline() if process.stdout else ""),
        name="eightflow-stub-ready",
        daemon=True,
    )
    reader.start()
    deadline = time.monotonic() + ready_timeout
    try:
        line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        process.kill()
        process.wait(5)
        detail = _read_stderr(stderr)
        stderr.close()
        process.stdout.close()
        raise StubStartError(
            f"stub process did not report READY within {ready_timeout}s; stderr:\n{detail}"
        ) from None
    if not line.startswith("READY "):
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        detail = _read_stderr(stderr)
        stderr.close()
        process.stdout.close()
        raise StubStartError(
            f"stub process exited with code {process.returncode} before READY "
            f"(stdout: {line.strip()!r}); stderr:\n{detail}"
        )
    stub = StubProcess(process, line.split(None, 1)[1].strip(), stderr)
    try:
        http_json("GET", stub.url + "/health", timeout=max(1.0, deadline - time.monotonic()))
    except StubControlError:
        stub.stop()
        raise
    return stub
