"""``batch-sharded`` merges the shards of its own run only, never an earlier run's, and ends
(with the late shards named and their re-run commands) instead of waiting for ever."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import eightflow_app.flows.batch_sharded as sharded
import pytest
from eightflow_app.tasks.shard_watch import ShardView

pytestmark = pytest.mark.prefect

DONE = ShardView("COMPLETED", "Completed", 100.0)


class FakeShards:
    """Shard flow runs that write their results at once; their states are ``views``."""

    def __init__(self, views: dict[int, ShardView]) -> None:
        self.views = views
        self.started: dict[str, dict[str, Any]] = {}
        self.cancelled: list[str] = []

    async def run_deployment(self, name: str, parameters: dict[str, Any], **kw: Any) -> Any:
        assert kw["timeout"] == 0  # created, never awaited blind
        index = parameters["shard_index"]
        shard_out = Path(parameters["out"])
        shard_out.mkdir(parents=True, exist_ok=True)
        (shard_out / "results.csv").write_text(
            f"id,status,error,cost_usd\nfresh-{index}.txt,completed,,0\n"
        )
        self.started[f"run-{index}"] = parameters
        return SimpleNamespace(id=f"run-{index}", name=kw["flow_run_name"])

    async def read(self, ids: list[str]) -> dict[str, ShardView]:
        return {i: self.views[int(i.split("-")[1])] for i in ids}

    async def cancel(self, shards: list[Any]) -> list[str]:
        self.cancelled += [s.name for s in shards if not s.final]
        return []


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeShards:
    shards = FakeShards({0: DONE, 1: DONE})
    monkeypatch.setattr(sharded, "arun_deployment", shards.run_deployment)
    monkeypatch.setattr(sharded, "read_shard_views", shards.read)
    monkeypatch.setattr(sharded, "cancel_shards", shards.cancel)
    return shards


async def test_a_sharded_run_never_merges_an_earlier_runs_shards(
    tmp_path: Path, fake: FakeShards
) -> None:
    out = tmp_path / "out"
    # What an earlier run left: shard folders under the old layout and under a run folder.
    for stale in (out / "shard-1-of-2", out / "shards" / "0ldrun00" / "shard-1-of-2"):
        stale.mkdir(parents=True)
        (stale / "results.csv").write_text("id,status,error,cost_usd\nstale.txt,completed,,0\n")
    brief = await sharded.batch_sharded(out=str(out), shards=2)
    merged = (out / "results.csv").read_text()
    assert "fresh-0.txt" in merged and "fresh-1.txt" in merged
    assert "stale.txt" not in merged
    assert brief["documents"] == 2
    written = [Path(p["out"]) for p in fake.started.values()]
    assert all(path.parent.parent == out / "shards" for path in written)
    assert len({path.parent for path in written}) == 1  # one folder for this run's shards
    assert brief["failed_shards"] == [] and brief["rerun"] == {} and fake.cancelled == []


@pytest.mark.parametrize(
    ("stuck", "state_name"),
    [
        (ShardView("RUNNING", "Running", 30.0), "Running"),  # its worker died mid-run
        (ShardView("SCHEDULED", "Late", None), "Late"),  # no worker ever took it
    ],
)
async def test_at_the_deadline_it_merges_what_finished_and_names_the_rest(
    tmp_path: Path, fake: FakeShards, stuck: ShardView, state_name: str
) -> None:
    fake.views[1] = stuck
    out = tmp_path / "out"
    state = await sharded.batch_sharded(
        out=str(out), shards=2, shard_stall_after_s=1, shard_deadline_s=2, return_state=True
    )
    assert state.is_failed()
    message = state.message
    assert f"1 of 2 shards not completed: shard-2-of-2 ({state_name}" in message
    assert "prefect deployment run batch-documents/nightly" in message
    brief = await state.aresult(raise_on_failure=False)
    assert brief["merged_shards"] == ["shard-1-of-2"]
    assert brief["failed_shards"] == brief["late_shards"] == ["shard-2-of-2"]
    assert brief["documents"] == 1  # shard 1's results only: shard 2's folder is not merged
    assert "fresh-1.txt" not in (out / "results.csv").read_text()
    assert fake.cancelled == ["shard-2-of-2"]
    words = shlex.split(brief["rerun"]["shard-2-of-2"])
    sent = json.loads(words[words.index("--params") + 1])
    started = {k: v for k, v in fake.started["run-1"].items() if k != "batch_key"}
    assert sent == {**started, "refresh": False}  # the batch's limits end with the batch


async def test_a_failed_merge_still_cancels_the_shards_it_gave_up_on(
    tmp_path: Path, fake: FakeShards, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*_: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sharded, "merge_shards", full_disk)
    fake.views[1] = ShardView("RUNNING", "Running", 30.0)
    state = await sharded.batch_sharded(
        out=str(tmp_path / "out"), shards=2, shard_stall_after_s=1, shard_deadline_s=2,
        return_state=True,
    )  # fmt: skip
    assert state.is_failed() and "No space left" in state.message
    assert fake.cancelled == ["shard-2-of-2"]


@pytest.mark.parametrize(
    ("field", "empty"), [("shard_deadline_s", 0), ("max_cost_usd", 0), ("model", "")]
)
def test_a_forms_empty_value_means_none(tmp_path: Any, field: str, empty: Any) -> None:
    """0 from the Run form is "no deadline", not a deadline of 0 s that ends at once."""
    params = sharded.ShardedParams(
        folder=str(tmp_path), out=str(tmp_path / "out"), **{field: empty}
    )
    assert getattr(params, field) is None


async def test_the_shards_share_limits_made_before_they_start_and_gone_after(
    tmp_path: Path, fake: FakeShards, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eightflow.batch.shared_bounds import BatchLimits
    from eightflow.runtime.global_limits import PrefectLimits

    store = PrefectLimits()
    seen: list[tuple[str, int | None, int | None]] = []
    start = fake.run_deployment

    async def looking(name: str, parameters: dict[str, Any], **kw: Any) -> Any:
        limits = BatchLimits(parameters["batch_key"], 0)
        inflight, spend = await store.read(limits.inflight), await store.read(limits.spend)
        limit_of = lambda found: found.limit if found else None  # noqa: E731
        seen.append((parameters["batch_key"], limit_of(inflight), limit_of(spend)))
        return await start(name, parameters, **kw)

    monkeypatch.setattr(sharded, "arun_deployment", looking)
    await sharded.batch_sharded(
        out=str(tmp_path / "out"), shards=2, concurrency=4, max_cost_usd=0.25
    )
    assert len(seen) == 2 and len({key for key, _, _ in seen}) == 1  # one key for the batch
    key = seen[0][0]
    assert seen == [(key, 4, 250_000)] * 2  # calls in flight, and the cap in micro-dollars
    limits = BatchLimits(key, 0)
    assert await store.read(limits.inflight) is None and await store.read(limits.spend) is None
