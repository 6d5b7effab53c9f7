"""The machine's PostgreSQL 15 cluster for e2e tests: started if needed, stopped only if we
started it (a cluster that was running before the test keeps running after it)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

CLUSTER = ("15", "main")


def cluster_running() -> bool:
    """``pg_ctlcluster 15 main status`` exits 0 when the cluster runs, 3 when it is down."""
    if shutil.which("pg_ctlcluster") is None:
        return False
    status = subprocess.run(["pg_ctlcluster", *CLUSTER, "status"], capture_output=True, check=False)
    return status.returncode == 0


@contextmanager
def postgres_for_test() -> Iterator[bool]:
    """Yield whether the cluster was already running; on exit stop it if it was not."""
    was_running = cluster_running()
    try:
        yield was_running
    finally:
        if not was_running and cluster_running():
            subprocess.run(["pg_ctlcluster", *CLUSTER, "stop"], capture_output=True, check=False)
