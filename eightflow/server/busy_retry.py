"""When the front door sends a request to the Prefect server again: its database was busy.

Prefect's server answers ``503 {"exception_message": "Service Unavailable"}`` for the
database errors its own Python client retries (``is_client_retryable_exception`` in
``prefect/server/api/server.py``). The one that shows up in practice is SQLite's
``SQLITE_BUSY_SNAPSHOT``: two writers met, and the request's transaction was rolled back
before anything was written, so the same request can go again. The UI does not retry, and a
reviewer's Resume would fail while a batch writes.

Not every such 503 is that clean, so not every request goes again:

- reads (``GET``, ``HEAD``, ``OPTIONS``, and Prefect's read-only ``POST`` routes:
  ``.../filter``, ``.../count``, ``.../paginate``, ``.../history``, the UI's counts) always
  may;
- writes only when the server's database is SQLite (``resend_writes``, set by
  ``eightflow stack up``). On PostgreSQL the same 503 also covers a connection lost at
  ``COMMIT``, when no one knows whether the write landed: sent again, a Run could start twice;
- never ``/api/ready`` or ``/api/health`` (their 503 says the database is down: a probe wants
  that answer now), nor a 503 with any other body.

The waits (:data:`DELAYS`, or the server's ``Retry-After`` up to :data:`MAX_RETRY_AFTER`)
stop once the time spent would pass :data:`WITHIN_S`: a browser is waiting. (The last
request's own time comes on top.)
"""

from __future__ import annotations

import json
import math

DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0)  # seconds before each resend
MAX_RETRY_AFTER = 5.0  # a server's Retry-After is honoured up to this
WITHIN_S = 10.0  # no more waiting once the waits would pass this
BUSY = {"exception_message": "Service Unavailable"}
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# The last segment of Prefect's (and its UI's) POST routes that only read.
_READ_POSTS = frozenset(
    {"filter", "count", "paginate", "history", "count-deployments", "next-runs", "counts",
     "count-task-runs", "lateness", "validate", "concurrency_status"}
)  # fmt: skip
_PROBES = frozenset({"/api/ready", "/api/health"})


def may_resend(method: str, path: str, *, resend_writes: bool) -> bool:
    """Whether a request to ``path`` (``/api/...``) may go again after a busy 503."""
    if path.rstrip("/") in _PROBES or not path.startswith("/api/"):
        return False
    *_, before, last = ["", *path.rstrip("/").split("/")]
    read_post = method == "POST" and (last in _READ_POSTS or before == "count-by")
    return method in _READS or read_post or resend_writes


def is_busy(status: int, body: bytes) -> bool:
    """Whether an answer is Prefect's "database busy, rolled back" 503."""
    if status != 503 or len(body) > 200:
        return False
    try:
        return bool(json.loads(body) == BUSY)
    except ValueError:
        return False


def wait_before(attempt: int, retry_after: str | None, waited: float) -> float | None:
    """Seconds to wait before resend number ``attempt`` (0-based), having waited ``waited``
    already; None when no resend is left (all :data:`DELAYS` used, or past :data:`WITHIN_S`)."""
    if attempt >= len(DELAYS):
        return None
    wait = _retry_after(retry_after, DELAYS[attempt])
    return wait if waited + wait <= WITHIN_S else None


def _retry_after(header: str | None, default: float) -> float:
    """The server's ``Retry-After`` in seconds (capped), else ``default``."""
    try:
        seconds = float(header) if header is not None else default
    except ValueError:  # an HTTP date: Prefect never sends one, the back-off does
        return default
    if not math.isfinite(seconds):
        return default
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
