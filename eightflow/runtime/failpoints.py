"""Crash points for the chaos suite: ``kill -9`` this process at a named point.

``EIGHTFLOW_FAILPOINT=ledger_commit:3`` makes the third ledger commit send this process
SIGKILL mid-transaction, exactly as an operator's ``kill -9`` or the OOM killer would at
that moment. The points are where a crash could corrupt or lose state: ``ledger_commit``
(inside the transaction, before COMMIT), ``cache_write`` (a queued answer or outcome not
yet written), ``output_write`` (a results file written but not yet renamed into place)
and ``shard_merge`` (between the merged files). Unset, as it always is outside the
chaos suite, a point costs one environment lookup.
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "EIGHTFLOW_FAILPOINT"
POINTS = ("ledger_commit", "cache_write", "output_write", "shard_merge")
_counts: dict[str, int] = {}
_lock = threading.Lock()


def failpoint(name: str) -> None:
    """SIGKILL this process if ``EIGHTFLOW_FAILPOINT`` names this point and this hit."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        hit = _counts[name] == int(nth or 1)
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)
