"""``batch-sharded`` merges the shards of its own run only, never an earlier run's."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import eightflow_app.flows.batch_sharded as sharded
import pytest

pytestmark = pytest.mark.prefect


async def test_a_sharded_run_never_merges_an_earlier_runs_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    # What an earlier run left: shard folders under the old layout and under a run folder.
    for stale in (out / "shard-1-of-2", out / "shards" / "0ldrun00" / "shard-1-of-2"):
        stale.mkdir(parents=True)
        (stale / "results.csv").write_text("id,status,error,cost_usd\nstale.txt,completed,,0\n")
    written: list[Path] = []

    async def fake_run_deployment(name: str, parameters: dict[str, Any], **_: Any) -> Any:
        shard_out = Path(parameters["out"])
        shard_out.mkdir(parents=True, exist_ok=True)
        index = parameters["shard_index"]
        (shard_out / "results.csv").write_text(
            f"id,status,error,cost_usd\nfresh-{index}.txt,completed,,0\n"
        )
        written.append(shard_out)
        return SimpleNamespace(id=f"run-{index}", name=f"shard-{index}", state=_Completed())

    monkeypatch.setattr(sharded, "arun_deployment", fake_run_deployment)
    brief = await sharded.batch_sharded(out=str(out), shards=2)
    merged = (out / "results.csv").read_text()
    assert "fresh-0.txt" in merged and "fresh-1.txt" in merged
    assert "stale.txt" not in merged
    assert brief["documents"] == 2
    assert all(path.parent.parent == out / "shards" for path in written)
    assert len({path.parent for path in written}) == 1  # one folder for this run's shards


class _Completed:
    def is_completed(self) -> bool:
        return True


async def test_the_shards_share_limits_made_before_they_start_and_gone_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eightflow.batch.shared_bounds import BatchLimits
    from eightflow.runtime.global_limits import PrefectLimits

    store = PrefectLimits()
    seen: list[tuple[str, int | None, int | None]] = []

    async def fake_run_deployment(name: str, parameters: dict[str, Any], **_: Any) -> Any:
        limits = BatchLimits(parameters["batch_key"], 0)
        inflight, spend = await store.read(limits.inflight), await store.read(limits.spend)
        seen.append(
            (
                parameters["batch_key"],
                inflight.limit if inflight else None,
                spend.limit if spend else None,
            )
        )
        Path(parameters["out"]).mkdir(parents=True, exist_ok=True)
        return SimpleNamespace(
            id="r", name=f"shard-{parameters['shard_index']}", state=_Completed()
        )

    monkeypatch.setattr(sharded, "arun_deployment", fake_run_deployment)
    await sharded.batch_sharded(
        out=str(tmp_path / "out"), shards=2, concurrency=4, max_cost_usd=0.25
    )
    assert len(seen) == 2 and len({key for key, _, _ in seen}) == 1  # one key for the batch
    key = seen[0][0]
    assert seen == [(key, 4, 250_000)] * 2  # calls in flight, and the cap in micro-dollars
    limits = BatchLimits(key, 0)
    assert await store.read(limits.inflight) is None and await store.read(limits.spend) is None
