"""The ``batch-sharded`` coordinator's watch over its shards: it never waits blind.

Each shard is a flow run of ``batch-documents``. Instead of waiting on each one with no end
(``run_deployment(timeout=None)``), the coordinator polls all of them at once:

- **state**: one ``flow_runs/filter`` query for every shard;
- **progress**: one ``artifacts/filter`` query for the shards' progress artifacts (the
  ``batch-documents-progress`` artifact each shard updates at most every 2 s as documents
  finish). Two small reads per poll, whatever the batch's size: cheap for the server.

A shard whose state and progress have not changed for ``stall_after_s`` is *late*: it is
named in the coordinator's log with its own state (``Running``, ``Scheduled``/``Late`` when no
worker took it, ...) and how far it got. Once every shard is final, or at ``deadline_s``, the
watch ends; the coordinator merges the shards that completed, cancels the others and lists,
for each, the command that re-runs it alone (:func:`rerun_command`).
"""

from __future__ import annotations

import asyncio
import json
import shlex
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from eightflow.safety.sanitize import sanitize_text

FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
PROGRESS_KEY = "batch-documents-progress"


@dataclass(frozen=True)
class ShardView:
    """What the server says about one shard at one poll."""

    state_type: str  # StateType value: "SCHEDULED", "RUNNING", "COMPLETED", ...
    state_name: str  # what the UI shows: "Late", "Running", "Crashed", ...
    progress: float | None = None  # percent, from its progress artifact (None: none yet)


@dataclass
class Shard:
    """One shard as the coordinator follows it."""

    index: int  # 0-based
    count: int
    flow_run_id: str
    parameters: dict[str, Any]
    state_type: str = "SCHEDULED"
    state_name: str = "Scheduled"
    progress: float = 0.0
    last_change: float = 0.0  # clock time of the last change of state or progress
    late: bool = False

    @property
    def name(self) -> str:
        return shard_run_name(self.index, self.count)

    @property
    def final(self) -> bool:
        return self.state_type in FINAL_STATES

    @property
    def completed(self) -> bool:
        return self.state_type == "COMPLETED"

    def describe(self, now: float) -> str:
        """``shard-2-of-2 (Running, 40% done, no progress for 312 s)``."""
        parts = [self.state_name, f"{self.progress:.0f}% done"]
        if not self.final:
            parts.append(f"no progress for {now - self.last_change:.0f} s")
        return f"{self.name} ({', '.join(parts)})"


def shard_run_name(index: int, count: int) -> str:
    return f"shard-{index + 1}-of-{count}"


@dataclass
class ShardWatch:
    """The watch's decisions, with no I/O: fed one view per shard per poll."""

    shards: list[Shard]
    stall_after_s: float
    deadline_s: float | None
    started: float
    log: Callable[[str], None] = print
    warn: Callable[[str], None] = print
    events: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for shard in self.shards:
            shard.last_change = self.started

    def update(self, shard: Shard, view: ShardView, now: float) -> None:
        """Take one poll's view of ``shard``; name it when it turns late or moves again."""
        progress = shard.progress if view.progress is None else max(shard.progress, view.progress)
        moved = view.state_type != shard.state_type or progress > shard.progress
        if view.state_name != shard.state_name:
            self._say(self.log, f"{shard.name} is {view.state_name}")
        shard.state_type, shard.state_name, shard.progress = (
            view.state_type,
            view.state_name,
            progress,
        )
        if moved:
            shard.last_change = now
            if shard.late and not shard.final:
                self._say(self.log, f"{shard.name} moves again: {shard.describe(now)}")
            shard.late = False
        elif not shard.final and not shard.late and now - shard.last_change >= self.stall_after_s:
            shard.late = True
            self._say(self.warn, f"{shard.name} is late: {shard.describe(now)}{hint(shard)}")

    def _say(self, out: Callable[[str], None], text: str) -> None:
        self.events.append(text)
        out(text)

    def all_final(self) -> bool:
        return all(shard.final for shard in self.shards)

    def past_deadline(self, now: float) -> bool:
        return self.deadline_s is not None and now - self.started >= self.deadline_s

    def unfinished(self) -> list[Shard]:
        return [shard for shard in self.shards if not shard.completed]

    def late(self) -> list[Shard]:
        return [shard for shard in self.shards if shard.late and not shard.final]


def hint(shard: Shard) -> str:
    """What a late shard's state most likely means, for the person reading the log."""
    if shard.state_type == "SCHEDULED":
        return ": no worker has taken it (are the pool's workers up and free?)"
    if shard.state_type == "PENDING":
        return ": a worker took it but its process has not started"
    if shard.state_type == "RUNNING":
        return ": its worker or process may have died, or its model calls hang"
    return ""


Reader = Callable[[list[str]], Awaitable[dict[str, ShardView]]]


async def watch_shards(
    watch: ShardWatch,
    read: Reader,
    poll_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> ShardWatch:
    """Poll until every shard is final or the deadline passes; returns ``watch``."""
    ids = [shard.flow_run_id for shard in watch.shards]
    unreachable = False
    while True:
        try:
            views = await read(ids)
            unreachable = False
        except Exception as exc:  # the API down for a moment: the deadline still holds
            views = {}
            if not unreachable:
                said = sanitize_text(repr(exc), limit=300)  # an API error can quote its URL
                watch._say(watch.warn, f"cannot read the shards' states ({said}); retrying")
            unreachable = True
        now = clock()
        for shard in watch.shards:
            view = views.get(shard.flow_run_id)
            if view is not None:
                watch.update(shard, view, now)
        if watch.all_final():
            return watch
        if watch.past_deadline(now):
            names = ", ".join(shard.describe(now) for shard in watch.shards if not shard.final)
            watch._say(watch.warn, f"deadline of {watch.deadline_s:.0f} s reached: {names}")
            return watch
        await sleep(poll_s)


def poll_interval(stall_after_s: float) -> float:
    """Often enough to name a late shard within a quarter of the stall time, and to see the
    last shard end within 2 s (two small queries per poll)."""
    return max(0.5, min(2.0, stall_after_s / 4))


async def read_shard_views(ids: list[str]) -> dict[str, ShardView]:
    """Every shard's state and progress: two queries, whatever the number of shards."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterId,
    )

    uuids = [UUID(i) for i in ids]
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=uuids)), limit=len(uuids)
        )
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=uuids),
                key=ArtifactFilterKey(any_=[PROGRESS_KEY]),
            )
        )
    progress: dict[str, float] = {}
    for artifact in artifacts:
        if artifact.flow_run_id is not None and isinstance(artifact.data, int | float):
            run = str(artifact.flow_run_id)
            progress[run] = max(progress.get(run, 0.0), float(artifact.data))
    views: dict[str, ShardView] = {}
    for flow_run in runs:
        state = flow_run.state
        views[str(flow_run.id)] = ShardView(
            state_type=state.type.value if state else "SCHEDULED",
            state_name=(state.name if state else None) or "Scheduled",
            progress=progress.get(str(flow_run.id)),
        )
    return views


async def cancel_shards(shards: list[Shard]) -> list[str]:
    """Stop unfinished shards so none starts or goes on after the coordinator gave up:
    a shard not yet running is Cancelled; a running one is set Cancelling (its worker, if
    alive, stops its process). Returns what could not be done, for the log."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import State
    from prefect.states import Cancelled, Cancelling

    problems: list[str] = []
    running = [shard for shard in shards if not shard.final]
    if not running:
        return problems
    async with get_client() as client:
        for shard in running:
            message = "the batch-sharded coordinator stopped waiting for it"
            state: State[Any] = (
                Cancelling(message=message)
                if shard.state_type == "RUNNING"
                else Cancelled(message=message)
            )
            try:
                await client.set_flow_run_state(shard.flow_run_id, state, force=True)
            except Exception as exc:  # the report matters more than the cancel
                said = sanitize_text(f"{type(exc).__name__}: {exc}", limit=300)
                problems.append(f"{shard.name}: could not cancel ({said})")
    return problems


def rerun_command(deployment: str, shard: Shard) -> str:
    """The command that runs ``shard`` again, alone, as a flow run of ``deployment``.

    ``refresh`` is off: documents the shard finished before it stopped are served from
    the cache, not paid for again. ``batch_key`` is left out: the batch's shared limits end
    with the batch, so a shard run alone is bounded by its own concurrency and cap. The
    command lands in the log and the run's state message, so it is sanitized: a secret in
    a parameter is never repeated there."""
    parameters = {k: v for k, v in shard.parameters.items() if k != "batch_key"}
    parameters["refresh"] = False
    return sanitize_text(
        f"prefect deployment run {shlex.quote(deployment)} "
        f"--flow-run-name {shard.name}-again "
        f"--params {shlex.quote(json.dumps(parameters, sort_keys=True))}",
        limit=None,
        redact_pii=False,
    )
