"""The coordinator's watch over its shards, with fake shard states and a fake clock."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable

import pytest
from eightflow_app.tasks.shard_watch import (
    Shard,
    ShardView,
    ShardWatch,
    poll_interval,
    rerun_command,
    watch_shards,
)

RUNNING = ShardView("RUNNING", "Running", None)
DONE = ShardView("COMPLETED", "Completed", 100.0)


def running(progress: float) -> ShardView:
    return ShardView("RUNNING", "Running", progress)


def make_watch(count: int = 2, stall: float = 60.0, deadline: float | None = 600.0) -> ShardWatch:
    shards = [Shard(i, count, f"run-{i}", {"shard_index": i}) for i in range(count)]
    said: list[str] = []
    return ShardWatch(shards, stall, deadline, started=0.0, log=said.append, warn=said.append)


# Each row: the views one shard shows at successive poll times, and whether it is late at the end.
@pytest.mark.parametrize(
    ("timeline", "late"),
    [
        # documents keep finishing: never late, however long it runs
        ([(30, running(10)), (80, running(20)), (130, running(30)), (180, running(40))], False),
        # progress stops at 40%: late once 60 s have passed since the last change
        ([(30, running(40)), (60, running(40)), (89, running(40)), (90, running(40))], True),
        # just under the stall time: not yet
        ([(30, running(40)), (89, running(40))], False),
        # no worker ever takes it: late while still Scheduled
        ([(30, ShardView("SCHEDULED", "Late")), (61, ShardView("SCHEDULED", "Late"))], True),
        # a state change is a sign of life: Scheduled for 50 s, then Running
        ([(50, ShardView("SCHEDULED", "Late")), (100, RUNNING)], False),
        # late, then documents finish again: no longer late
        ([(30, running(40)), (95, running(40)), (100, running(45))], False),
        # a shard that ended is never late, whatever the time
        ([(30, running(40)), (500, ShardView("CRASHED", "Crashed", None))], False),
        # a progress artifact that goes back (a re-created one) is not progress
        ([(10, running(50)), (40, running(10)), (71, running(10))], True),
    ],
)
def test_a_shard_is_late_after_the_stall_time_with_no_change(
    timeline: list[tuple[float, ShardView]], late: bool
) -> None:
    watch = make_watch()
    shard = watch.shards[0]
    for now, view in timeline:
        watch.update(shard, view, now)
    assert shard.late is late
    assert [s.name for s in watch.late()] == (["shard-1-of-2"] if late else [])


def test_the_late_shard_is_named_once_with_its_state_and_progress() -> None:
    watch = make_watch(stall=60)
    shard = watch.shards[1]
    for now in (10, 40, 70, 80, 90):  # 40% from t=10 on: late at 70, and said once
        watch.update(shard, running(40), now)
    warnings = [e for e in watch.events if "late" in e]
    assert warnings == [
        "shard-2-of-2 is late: shard-2-of-2 (Running, 40% done, no progress for 60 s): its "
        "worker or process may have died, or its model calls hang"
    ]


@pytest.mark.parametrize(
    ("view", "hint"),
    [
        (ShardView("SCHEDULED", "Late"), "no worker has taken it"),
        (ShardView("PENDING", "Pending"), "its process has not started"),
        (RUNNING, "worker or process may have died"),
    ],
)
def test_the_warning_says_what_the_shards_state_means(view: ShardView, hint: str) -> None:
    watch = make_watch(stall=10)
    watch.update(watch.shards[0], view, 5)
    watch.update(watch.shards[0], view, 16)
    assert hint in watch.events[-1]


class FakeServer:
    """Shard views by poll number, and a clock that moves ``step`` seconds per sleep."""

    def __init__(self, script: Callable[[int], dict[str, ShardView]], step: float) -> None:
        self.script, self.step = script, step
        self.now, self.polls = 0.0, 0

    async def read(self, ids: list[str]) -> dict[str, ShardView]:
        self.polls += 1
        return self.script(self.polls)

    async def sleep(self, seconds: float) -> None:
        self.now += self.step

    def clock(self) -> float:
        return self.now


async def test_the_watch_ends_when_every_shard_is_final() -> None:
    def script(poll: int) -> dict[str, ShardView]:
        return {"run-0": DONE if poll >= 3 else running(poll), "run-1": DONE}

    server = FakeServer(script, step=5)
    watch = await watch_shards(make_watch(), server.read, 5, server.clock, server.sleep)
    assert server.polls == 3
    assert watch.unfinished() == []


async def test_a_dead_shard_ends_the_watch_at_the_deadline_not_never() -> None:
    # shard 2's worker died: its run stays Running at 30% for ever
    def script(poll: int) -> dict[str, ShardView]:
        return {"run-0": DONE if poll > 4 else running(10 * poll), "run-1": running(30)}

    server = FakeServer(script, step=5)
    watch = make_watch(stall=60, deadline=300)
    await watch_shards(watch, server.read, 5, server.clock, server.sleep)
    assert server.now == 300  # the deadline, then no more polls
    assert [s.name for s in watch.unfinished()] == ["shard-2-of-2"]
    assert [s.name for s in watch.late()] == ["shard-2-of-2"]
    assert watch.events[-1].startswith("deadline of 300 s reached: shard-2-of-2 (Running, 30% done")


async def test_no_deadline_waits_for_the_shards() -> None:
    def script(poll: int) -> dict[str, ShardView]:
        return {f"run-{i}": DONE if poll >= 200 else running(0.1 * poll) for i in range(2)}

    server = FakeServer(script, step=5)
    watch = make_watch(deadline=None)
    await watch_shards(watch, server.read, 5, server.clock, server.sleep)
    assert server.polls == 200 and watch.unfinished() == []


async def test_a_shard_the_server_does_not_return_keeps_its_last_view() -> None:
    def script(poll: int) -> dict[str, ShardView]:
        return {"run-0": DONE} if poll == 1 else {"run-1": DONE}

    server = FakeServer(script, step=5)
    watch = await watch_shards(make_watch(), server.read, 5, server.clock, server.sleep)
    assert server.polls == 2 and watch.all_final()


@pytest.mark.parametrize(("stall", "poll"), [(300, 2.0), (4, 1.0), (1, 0.5), (0.1, 0.5)])
def test_polls_often_enough_to_name_a_late_shard_in_time(stall: float, poll: float) -> None:
    assert poll_interval(stall) == poll


def test_the_rerun_command_runs_the_shard_alone_from_the_cache() -> None:
    parameters = {
        "folder": "/data/docs with space",
        "out": "/out/shards/abc/shard-2-of-2",
        "shard_index": 1,
        "shard_count": 2,
        "refresh": True,
        "model": "openai/gpt-4o-mini",
    }
    shard = Shard(1, 2, "run-1", parameters)
    command = rerun_command("batch-documents/nightly", shard)
    words = shlex.split(command)
    assert words[:4] == ["prefect", "deployment", "run", "batch-documents/nightly"]
    assert words[words.index("--flow-run-name") + 1] == "shard-2-of-2-again"
    sent = json.loads(words[words.index("--params") + 1])
    assert sent == {**parameters, "refresh": False}  # what it had finished comes from the cache


SECRET = "sk-proj-" + "Q7x9" * 12


def test_the_rerun_command_never_repeats_a_secret() -> None:
    shard = Shard(0, 1, "run-0", {"model": f"openai/{SECRET}", "shard_index": 0})
    command = rerun_command("batch-documents/nightly", shard)
    assert SECRET not in command and "shard-1-of-1-again" in command


async def test_an_unreachable_api_is_said_once_and_the_deadline_still_holds() -> None:
    def script(poll: int) -> dict[str, ShardView]:
        if 2 <= poll <= 5:
            raise ConnectionError(f"server restarting (Authorization: Bearer {SECRET})")
        return {"run-0": DONE, "run-1": running(50)}

    server = FakeServer(script, step=5)
    watch = make_watch(stall=60, deadline=100)
    await watch_shards(watch, server.read, 5, server.clock, server.sleep)
    assert server.now == 100
    assert sum("cannot read the shards' states" in e for e in watch.events) == 1
    assert not any(SECRET in e for e in watch.events)
    assert [s.name for s in watch.unfinished()] == ["shard-2-of-2"]
