"""Session-wide test set-up: offline, a private EIGHTFLOW_HOME, a Prefect API only on demand.

Environment first: litellm must not fetch its price map at import, eightflow must not start
a local server, and nothing may read the developer's real ~/.eightflow.

Tiers: ``scripts/test`` runs every test not marked ``e2e`` (the fast tier);
``scripts/test --all`` adds the ``e2e`` group (real servers, subprocess fleets, PostgreSQL,
Chromium, wheel builds, kill -9 loops, the chaos suite).

Prefect: a test that needs Prefect's API says so with ``@pytest.mark.prefect`` (on the test,
its class, or a module's ``pytestmark``), or requests the ``prefect_api`` fixture. The first
such test starts one Prefect test server for the rest of the session (~20 s on 2 cores).
Every other test runs with no API and Prefect's ephemeral mode off: reaching the API fails at
once with Prefect's "No Prefect API URL provided", and the failure report names the missing
marker, instead of a temporary server starting behind the test's back.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

_HOME = tempfile.mkdtemp(prefix="eightflow-test-home-")
# Prefect's own home (result storage, profiles) is private to this process too: under
# pytest-xdist every worker is a process of its own, with its own homes and test server.
_PREFECT_HOME = tempfile.mkdtemp(prefix="eightflow-test-prefect-home-")
for _folder in (_HOME, _PREFECT_HOME):  # gone when the process ends, as the harness's own
    atexit.register(shutil.rmtree, _folder, ignore_errors=True)
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["EIGHTFLOW_HOME"] = _HOME
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["EIGHTFLOW_AUTO_SERVER"] = "0"
os.environ.pop("EIGHTFLOW_MODEL", None)
os.environ.pop("PREFECT_API_URL", None)
# No API unless a test asks for one (see above); child processes inherit this too.
os.environ["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "false"
os.environ.pop("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", None)
# Never write the developer's Prefect profile (tests that need it use a private one).
os.environ["EIGHTFLOW_CONFIGURE_PROFILE"] = "0"
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest  # noqa: E402

if TYPE_CHECKING:
    from tests.support.process import StubProcess

ROOT = Path(__file__).resolve().parent.parent
UNDER_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
NO_API_HINT = (
    "This test reached Prefect's API without asking for one: mark it @pytest.mark.prefect "
    "(or request the prefect_api fixture) and it runs against the session's Prefect test server."
)
# Prefect's settings context from before the test server started: what unmarked tests get.
_settings_without_api: list[Any] = []


def require_prerequisite(present: bool, why: str) -> None:
    """Skip a test whose prerequisite (PostgreSQL, Chromium...) is missing, except under
    ``CI=true``: there a missing prerequisite fails the test, so CI never passes by skipping.
    """
    if present:
        return
    if UNDER_CI:
        pytest.fail(f"missing prerequisite under CI=true: {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def require() -> Callable[[bool, str], None]:
    """``require(condition, why)``: see :func:`require_prerequisite`."""
    return require_prerequisite


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One real Prefect API for the session (Prefect's test harness), started by the first
    test that needs it; yields its URL, which child processes get as ``PREFECT_API_URL``.
    Request it, or mark the test ``@pytest.mark.prefect``, which requests it first, before
    the test's other fixtures.

    It starts in the main thread on purpose: started in the background, a test that
    monkeypatched ``socket`` meanwhile broke the harness's health check.
    """
    import prefect.context
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    _settings_without_api.append(prefect.context.get_settings_context())
    try:
        with prefect_test_harness(server_startup_timeout=120):
            yield str(PREFECT_API_URL.value())
    finally:
        _settings_without_api.clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``@pytest.mark.prefect`` requests ``prefect_api`` ahead of every other fixture, so a
    module fixture of a marked test (a flow run shared by the module) finds the API up."""
    for item in items:
        names = getattr(item, "fixturenames", None)
        if names is not None and "prefect_api" not in names and item.get_closest_marker("prefect"):
            item.fixturenames = ["prefect_api", *names]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _no_prefect_api_unless_asked(request: pytest.FixtureRequest) -> Iterator[None]:
    """Once the session's Prefect server is up, hide it again from tests that did not ask."""
    if not _settings_without_api or "prefect_api" in request.fixturenames:
        yield
        return
    import prefect.context

    before = _settings_without_api[0]
    context = prefect.context.SettingsContext(profile=before.profile, settings=before.settings)
    with prefect.context._temporary_global_settings_context(context), context:
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if (
        report.failed
        and "prefect_api" not in getattr(item, "fixturenames", ())
        and "No Prefect API URL provided" in str(report.longrepr)
    ):
        report.sections.append(("Prefect API", NO_API_HINT))
    return report


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh EIGHTFLOW_HOME for tests that look at local state."""
    monkeypatch.setenv("EIGHTFLOW_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def fake_model():  # type: ignore[no-untyped-def]
    """A fresh scripted provider routed as ``fake/...`` (priced, so cost is a number)."""
    from tests.support.fake_model import FakeModel

    return FakeModel(price=(1e-6, 2e-6)).install()


@pytest.fixture(scope="module")
def stub_process(request: pytest.FixtureRequest) -> Iterator[StubProcess]:
    """One stub server child process per test module (wire, fault and e2e tests).

    Configured by the module's ``STUB_CONFIG`` (a ``StubConfig``; defaults otherwise) and
    ``STUB_HISTORY_LIMIT``; a test may ``configure()``/``reset()`` it further.
    """
    from tests.support import StubConfig, start_stub_process
    from tests.support.stub_server import DEFAULT_HISTORY_LIMIT

    config = getattr(request.module, "STUB_CONFIG", None) or StubConfig()
    limit = getattr(request.module, "STUB_HISTORY_LIMIT", DEFAULT_HISTORY_LIMIT)
    with start_stub_process(config, history_limit=limit) as stub:
        yield stub
