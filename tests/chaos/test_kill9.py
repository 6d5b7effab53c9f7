"""``kill -9`` at the points where a crash could lose or corrupt state, 20 times.

Each kill: a fresh ``EIGHTFLOW_HOME``, a batch that SIGKILLs itself at the Nth hit of a
crash point (random N, seeded), then the same command again. The second run must
complete, its ``results.csv`` must match an uninterrupted run (every column except
timings and this run's cost/cache flags), and it must make exactly the calls whose
answers were not committed before the kill: no finished call is repeated.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.helpers import CALLS_PER_DOC, MODEL, comparable
from tests.support import StubProcess
from tests.support.corpus import write_corpus

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900), pytest.mark.prefect]

N_DOCS = 6
KILLS = 5  # per crash point; four points
HITS = {"ledger_commit": (1, 2), "cache_write": (1, 4 * N_DOCS), "output_write": (1, 3)}
SEED = 20261130


class Zygote:
    """``tests/chaos/zygote.py``: forks a pre-imported child per run."""

    def __init__(self, env: dict[str, str]) -> None:
        script = Path(__file__).with_name("zygote.py")
        self.process = subprocess.Popen(
            [sys.executable, str(script)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert json.loads(self.readline()) == {"ready": True}

    def readline(self) -> str:
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            assert line, "the zygote died"
            if line.startswith("@zygote "):
                return line.removeprefix("@zygote ")

    def run(self, job: dict[str, Any]) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        return int(json.loads(self.readline())["code"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)


@pytest.fixture(scope="module")
def stub(stub_process: StubProcess) -> StubProcess:
    """The module's stub server process (tests/conftest.py ``stub_process``)."""
    return stub_process


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    from prefect.settings import PREFECT_API_URL

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "OPENAI_API_KEY": "sk-test-kill9-0123456789abcdef",
        "PYTHONPATH": str(root),
        "EIGHTFLOW_LOADER_SANDBOX": "0",  # text files only; no pool to fork under
    }
    z = Zygote(env)
    yield z
    z.close()


def batch_job(folder: Path, out: Path, home: Path, stub: StubProcess, **extra: Any) -> dict:
    params = {
        "folder": str(folder),
        "out": str(out),
        "model": MODEL,
        "api_base": stub.api_base,
        "concurrency": 4,
        **extra.pop("params", {}),
    }
    env = {"EIGHTFLOW_HOME": str(home), **extra.pop("env", {})}
    return {"kind": "batch", "params": params, "env": env, "log": str(out) + ".log"}


def committed_answers(home: Path) -> int:
    with sqlite3.connect(home / "cache.sqlite") as db:
        return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def log_of(out: Path) -> str:
    return Path(str(out) + ".log").read_text(errors="replace")[-2000:]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kill9") / "docs"
    write_corpus(folder, N_DOCS, seed=42)
    return folder


def test_kill_9_at_random_points_then_resume(
    zygote: Zygote, stub: StubProcess, corpus: Path, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline"
    stub.reset()
    assert zygote.run(batch_job(corpus, baseline, tmp_path / "home0", stub)) == 0
    assert stub.stats()["calls"] == CALLS_PER_DOC * N_DOCS
    expected = comparable(baseline)

    rng = random.Random(SEED)
    tried = []
    for point, (low, high) in HITS.items():
        for i in range(KILLS):
            nth = rng.randint(low, high)
            home, out = tmp_path / f"{point}-{i}" / "home", tmp_path / f"{point}-{i}" / "out"
            stub.reset()
            job = batch_job(corpus, out, home, stub, env={"EIGHTFLOW_FAILPOINT": f"{point}:{nth}"})
            assert zygote.run(job) == -9, f"{point}:{nth} not reached: {log_of(out)}"
            committed = committed_answers(home)
            # Nothing half-written: no results.csv, or a whole one.
            if (out / "results.csv").exists():
                assert len(comparable(out)) == N_DOCS
            stub.reset()
            assert zygote.run(batch_job(corpus, out, home, stub)) == 0, log_of(out)
            assert comparable(out) == expected, f"after a kill at {point}:{nth}"
            # Exactly the calls not committed before the kill: none repeated, none missing.
            assert stub.stats()["calls"] == CALLS_PER_DOC * N_DOCS - committed, f"{point}:{nth}"
            tried.append(f"{point}:{nth}")
    assert len(tried) == KILLS * len(HITS)


def test_kill_9_during_a_shard_merge_then_merge_again(
    zygote: Zygote, stub: StubProcess, corpus: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shards = [tmp_path / "shards" / f"shard-{i + 1}-of-2" for i in range(2)]
    for index, shard in enumerate(shards):
        job = batch_job(corpus, shard, home, stub, params={"shard_index": index, "shard_count": 2})
        assert zygote.run(job) == 0, log_of(shard)

    def merge(out: Path, env: dict[str, str] | None = None) -> int:
        job = {
            "kind": "merge",
            "shards": [str(s) for s in shards],
            "out": str(out),
            "env": env or {},
            "log": str(out) + ".log",
        }
        return zygote.run(job)

    reference = tmp_path / "merged-once"
    assert merge(reference) == 0
    expected = comparable(reference)
    assert len(expected) == N_DOCS
    for i in range(KILLS):
        out = tmp_path / f"merged-{i}"
        if i % 2:  # half of them into a folder that already holds an earlier merge
            assert merge(out) == 0
        assert merge(out, {"EIGHTFLOW_FAILPOINT": "shard_merge:1"}) == -9
        assert merge(out) == 0, log_of(out)
        assert comparable(out) == expected
        assert (out / "trace.jsonl").read_text() == (reference / "trace.jsonl").read_text()
