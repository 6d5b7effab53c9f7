"""The session's Prefect test server, started in the background as soon as pytest knows that
a selected test needs it, so its start-up (~20 s on 2 cores) overlaps the tests that do not.

Prefect's own ``prefect_test_harness`` runs it, in a thread of its own that keeps the harness
open until the session ends (a harness must be left in the thread that entered it). Tests get
the harness's settings through :meth:`PrefectTestServer.settings` (the ``prefect_api``
fixture in tests/conftest.py enters them); until then nothing in the main thread sees it.
"""

from __future__ import annotations

import threading
from typing import Any

STARTUP_TIMEOUT_S = 180


class PrefectTestServer:
    def __init__(self) -> None:
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._settings: Any = None  # the harness's prefect.context.SettingsContext
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="prefect-test-server", daemon=True)

    def start(self) -> PrefectTestServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        try:
            import prefect.context
            from prefect.testing.utilities import prefect_test_harness

            with prefect_test_harness(server_startup_timeout=STARTUP_TIMEOUT_S - 30):
                self._settings = prefect.context.get_settings_context()
                self._ready.set()
                self._stop.wait()
        except BaseException as exc:  # handed to the test that waits
            self._error = exc
        finally:
            self._ready.set()

    def settings(self) -> Any:
        """Wait until the server answers; the harness's settings context."""
        if not self._ready.wait(STARTUP_TIMEOUT_S):
            raise RuntimeError(f"the Prefect test server did not start in {STARTUP_TIMEOUT_S} s")
        if self._settings is None:
            raise RuntimeError("the Prefect test server did not start") from self._error
        return self._settings

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)
