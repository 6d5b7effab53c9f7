"""Session-wide test set-up: offline, a private EIGHTFLOW_HOME, one Prefect test server.

Environment first: litellm must not fetch its price map at import, eightflow must not start
a local server, and nothing may read the developer's real ~/.eightflow.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_HOME = tempfile.mkdtemp(prefix="eightflow-test-home-")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["EIGHTFLOW_HOME"] = _HOME
os.environ["EIGHTFLOW_AUTO_SERVER"] = "0"
os.environ.pop("EIGHTFLOW_MODEL", None)
os.environ.pop("PREFECT_API_URL", None)
# Never write the developer's Prefect profile (tests that need it use a private one).
os.environ["EIGHTFLOW_CONFIGURE_PROFILE"] = "0"
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    """One real Prefect API for the whole session (start-up ~20 s on 2 cores)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh EIGHTFLOW_HOME for tests that look at local state."""
    monkeypatch.setenv("EIGHTFLOW_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def fake_model():  # type: ignore[no-untyped-def]
    """A fresh scripted provider routed as ``fake/...`` (priced, so cost is a number)."""
    from eightflow.testing.fake_model import FakeModel

    return FakeModel(price=(1e-6, 2e-6)).install()
