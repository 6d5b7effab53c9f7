"""A free port for a server a test starts: 4300-4999, the range this machine's engineers
keep to (never 4200, the default a developer's own server may hold)."""

from __future__ import annotations

import random
import socket


def free_port(low: int = 4300, high: int = 4999) -> int:
    for _ in range(200):
        port = random.randint(low, high)
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError(f"no free port in {low}-{high}")
