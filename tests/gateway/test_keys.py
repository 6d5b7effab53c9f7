"""Provider keys come from the worker's own host: its environment, or a 0600
``EIGHTFLOW_HOME/keys.env``; never from the Prefect server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eightflow.gateway import keys


@pytest.fixture
def worker(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A worker with an API URL, no key in its environment, and a home for keys.env."""
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.delenv("KEYTEST_API_KEY", raising=False)
    monkeypatch.setattr(keys, "_FILE_CACHE", {})
    home.mkdir(parents=True, exist_ok=True)
    return home / keys.KEYS_FILE


def write(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    os.chmod(path, mode)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("KEYTEST_API_KEY=sk-file-1\n", "sk-file-1"),
        ("export KEYTEST_API_KEY='sk-file-2'\n", "sk-file-2"),
        ('# comment\n\nKEYTEST_API_KEY = "sk-file-3"\nOTHER_API_KEY=x\n', "sk-file-3"),
        ("KEYTEST_API_KEY=\n", None),
        ("OTHER_API_KEY=sk-other\n", None),
    ],
)
async def test_the_key_file_is_read(worker: Path, text: str, key: str | None) -> None:
    write(worker, text)
    assert await keys.provider_key("keytest/model") == key


async def test_no_file_no_key(worker: Path) -> None:
    assert await keys.provider_key("keytest/model") is None


async def test_the_environment_wins_over_the_file(
    worker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(worker, "KEYTEST_API_KEY=sk-file\n")
    monkeypatch.setenv("KEYTEST_API_KEY", "sk-from-env")
    assert await keys.provider_key("keytest/model") == "sk-from-env"


async def test_an_edited_file_is_picked_up(worker: Path) -> None:
    write(worker, "KEYTEST_API_KEY=sk-old\n")
    assert await keys.provider_key("keytest/model") == "sk-old"
    write(worker, "KEYTEST_API_KEY=sk-newer-key\n")
    assert await keys.provider_key("keytest/model") == "sk-newer-key"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
async def test_a_file_others_can_read_is_refused(
    worker: Path, mode: int, caplog: pytest.LogCaptureFixture
) -> None:
    write(worker, "KEYTEST_API_KEY=sk-exposed\n", mode)
    assert await keys.provider_key("keytest/model") is None
    assert "chmod 600" in caplog.text and str(worker) in caplog.text
    assert "sk-exposed" not in caplog.text


async def test_a_link_is_not_followed(worker: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.env"
    write(target, "KEYTEST_API_KEY=sk-linked\n")
    worker.symlink_to(target)
    assert await keys.provider_key("keytest/model") is None


async def test_the_prefect_server_is_never_asked(
    worker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.system import Secret

    async def aload(*_: object, **__: object) -> None:
        raise AssertionError("a key was looked up in the Prefect server")

    monkeypatch.setattr(Secret, "aload", aload)
    assert await keys.provider_key("keytest/model") is None
