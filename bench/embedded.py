"""Embedded-model speed: the timing claims that unit tests must not make.

    python bench/embedded.py --json

For each analysis task of the embedded model (``local/embedded``) it times one answer on a
document of over 100,000 characters and the mean of five answers on a few paragraphs
(after a warm-up call), as wall time (``*_s``, which the targets judge) and as this
process's CPU time (``*_cpu_s``: steadier on a shared machine, for comparing two
versions). Targets: 3 s for the long document, 0.2 s for a few paragraphs.
The last line printed is JSON; the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LONG_TARGET_S = 3.0
SHORT_TARGET_S = 0.2


def _documents() -> tuple[str, str]:
    from tests.support.corpus import synthetic_document

    short = synthetic_document(0, paragraphs=3)
    parts: list[str] = []
    while sum(len(p) + 2 for p in parts) <= 100_000:
        parts.append(synthetic_document(len(parts), paragraphs=6))
    return short, "\n\n".join(parts)


def measure() -> dict[str, dict[str, float]]:
    from eightflow.embedded import EmbeddedModel

    short, long = _documents()
    model = EmbeddedModel()
    results: dict[str, dict[str, float]] = {}
    for task in model.TASKS:
        model.respond(task, short)  # warm up: lazy imports, lexicons, compiled patterns
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(5):
            model.respond(task, short)
        short_s = (time.perf_counter() - started) / 5
        short_cpu = (time.process_time() - cpu) / 5
        started, cpu = time.perf_counter(), time.process_time()
        model.respond(task, long)
        long_s, long_cpu = time.perf_counter() - started, time.process_time() - cpu
        results[task] = {
            "short_s": round(short_s, 4),
            "long_s": round(long_s, 3),
            "short_cpu_s": round(short_cpu, 4),
            "long_cpu_s": round(long_cpu, 3),
        }
    results["_document_chars"] = {"short": len(short), "long": len(long)}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="Print only the JSON line.")
    args = parser.parse_args()
    results = measure()
    missed = [
        f"{task}: {key} {value} s over {target} s"
        for task, row in results.items()
        if not task.startswith("_")
        for key, value, target in (
            ("long_s", row["long_s"], LONG_TARGET_S),
            ("short_s", row["short_s"], SHORT_TARGET_S),
        )
        if value > target
    ]
    if not args.json:
        for line in missed:
            print(f"missed: {line}", file=sys.stderr)
    print(json.dumps({**results, "targets_met": not missed}))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
