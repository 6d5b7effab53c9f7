"""Which requests the front door may send again after a busy 503, and how long it waits
(eightflow/server/busy_retry.py)."""

from __future__ import annotations

import pytest

from eightflow.server import busy_retry

RUN = "/api/flow_runs/0b9c6f1e-8d1a-4d3e-9a53-7f1f3c2b1a00"


@pytest.mark.parametrize(
    ("method", "path", "sqlite", "may"),
    [
        ("GET", RUN, False, True),
        ("HEAD", RUN, False, True),
        ("POST", "/api/flow_runs/filter", False, True),  # Prefect's reads by POST
        ("POST", "/api/task_runs/count", False, True),
        ("POST", "/api/flow_runs/paginate", False, True),
        ("POST", "/api/flow_runs/history/", False, True),
        ("POST", f"{RUN}/resume", True, True),  # a write on SQLite: rolled back
        ("POST", f"{RUN}/resume", False, False),  # on PostgreSQL it may have landed
        ("POST", "/api/deployments/x/create_flow_run", False, False),
        ("PATCH", RUN, False, False),
        ("DELETE", RUN, True, True),
        ("GET", "/api/ready", True, False),  # a probe wants the answer now
        ("GET", "/api/health", True, False),
        ("GET", "/runs/flow-run/x", True, False),  # the UI's pages: not Prefect's API
        ("POST", "/api/filter-not/resume", False, False),
        ("POST", "/api/ui/flows/count-deployments", False, True),  # the UI's dashboards
        ("POST", "/api/ui/task_runs/dashboard/counts", False, True),
        ("POST", "/api/events/count-by/day", False, True),
        ("POST", "/api/ui/schemas/validate", False, True),
        ("POST", "/api/work_pools/local/get_scheduled_flow_runs", False, False),  # a write
    ],
)
def test_which_requests_may_go_again(method: str, path: str, sqlite: bool, may: bool) -> None:
    assert busy_retry.may_resend(method, path, resend_writes=sqlite) is may


@pytest.mark.parametrize(
    ("status", "body", "busy"),
    [
        (503, b'{"exception_message":"Service Unavailable"}', True),
        (503, b'{"exception_message": "Service Unavailable"}', True),  # any JSON spacing
        (503, b'{"exception_message":"Service Unavailable","x":1}', False),
        (503, b'{"detail":"down"}', False),
        (503, b"<html>Service Unavailable</html>", False),
        (503, b"", False),
        (500, b'{"exception_message":"Service Unavailable"}', False),
    ],
)
def test_only_prefects_busy_answer_is_busy(status: int, body: bytes, busy: bool) -> None:
    assert busy_retry.is_busy(status, body) is busy


@pytest.mark.parametrize(
    ("attempt", "retry_after", "waited", "wait"),
    [
        (0, None, 0.0, busy_retry.DELAYS[0]),
        (len(busy_retry.DELAYS) - 1, None, 0.0, busy_retry.DELAYS[-1]),
        (len(busy_retry.DELAYS), None, 0.0, None),  # every resend used
        (0, "2", 0.0, 2.0),
        (0, "600", 0.0, busy_retry.MAX_RETRY_AFTER),
        (0, "2", busy_retry.WITHIN_S - 1, None),  # it would pass the time a browser waits
        (0, None, busy_retry.WITHIN_S - busy_retry.DELAYS[0], busy_retry.DELAYS[0]),
    ],
)
def test_the_wait_before_each_resend(
    attempt: int, retry_after: str | None, waited: float, wait: float | None
) -> None:
    assert busy_retry.wait_before(attempt, retry_after, waited) == wait
