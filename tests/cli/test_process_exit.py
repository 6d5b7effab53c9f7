"""The ``eightflow`` command ends its process without the interpreter's teardown, but only
after everything an ordinary exit would have flushed is out: threads, exit hooks, logs and
the standard streams."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from eightflow.cli.process_exit import exit_code

# A process that leaves work for its exit: a non-daemon thread still writing, a threading
# exit hook (where Prefect drains its event and log queues), an atexit handler, a buffered
# log line, and output with no newline.
PROGRAM = textwrap.dedent(
    """
    import atexit, logging, sys, threading, time
    from pathlib import Path
    from eightflow.cli.process_exit import finish

    out = Path(sys.argv[1])
    def late_writer():
        time.sleep(0.3)
        (out / "thread").write_text("joined")
    threading.Thread(target=late_writer).start()
    threading._register_atexit(lambda: (out / "hook").write_text("drained"))
    atexit.register(lambda: (out / "atexit").write_text("ran"))
    handler = logging.FileHandler(out / "log.txt", delay=True)
    logging.getLogger("t").addHandler(handler)
    logging.getLogger("t").warning("flushed")
    sys.stdout.write("no newline at the end")
    finish(int(sys.argv[2]))
    """
)


@pytest.mark.parametrize("fast", ["1", "0"], ids=["fast exit", "ordinary exit"])
@pytest.mark.parametrize("code", [0, 3])
def test_everything_is_flushed_before_the_process_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: str, code: int
) -> None:
    monkeypatch.setenv("EIGHTFLOW_FAST_EXIT", fast)
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(tmp_path), str(code)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == code, done.stderr
    assert done.stdout == "no newline at the end"
    assert (tmp_path / "thread").read_text() == "joined"
    assert (tmp_path / "hook").read_text() == "drained"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "log.txt").read_text() == "flushed\n"


@pytest.mark.parametrize(
    ("given", "code", "printed"),
    [
        (None, 0, ""),
        (0, 0, ""),
        (2, 2, ""),
        ("error: no such file", 1, "error: no such file\n"),
    ],
)
def test_exit_code_is_what_sys_exit_gives(
    capsys: pytest.CaptureFixture[str], given: object, code: int, printed: str
) -> None:
    assert exit_code(SystemExit(given)) == code
    assert capsys.readouterr().err == printed


def test_the_console_script_is_the_one_that_exits_this_way() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "eightflow"]
    assert script.value == "eightflow.cli.process_exit:main"
