"""Operator limits per model: named, sized and enforced around each call, shared by runs."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from eightflow.runtime import model_limits
from eightflow.runtime.global_limits import LocalLimits, PrefectLimits
from eightflow.runtime.limiter import CallLimiter
from eightflow.runtime.model_limits import (
    ModelGate,
    ensure_model_limits,
    limit_name,
    limit_sizes,
    model_gate,
)
from eightflow.settings import ModelLimits, SettingsError, get_settings


@pytest.mark.parametrize(
    ("model", "kind", "name"),
    [
        ("openai/gpt-4o-mini", "rpm", "eightflow-model-openai-gpt-4o-mini-rpm"),
        ("anthropic/claude-haiku-4-5", "tpm", "eightflow-model-anthropic-claude-haiku-4-5-tpm"),
        ("Azure/My Deployment!", "inflight", "eightflow-model-azure-my-deployment-inflight"),
    ],
)
def test_limit_names_are_lowercase_letters_digits_and_dashes(
    model: str, kind: str, name: str
) -> None:
    assert limit_name(model, kind) == name


@pytest.mark.parametrize(
    ("limits", "window_s", "sizes"),
    [
        (ModelLimits(rpm=600), 60.0, [("rpm", 600, 10.0)]),
        (ModelLimits(rpm=0.5), 60.0, [("rpm", 1, 0.5 / 60)]),
        (
            ModelLimits(tpm=120_000, in_flight=4),
            60.0,
            [("tpm", 120_000, 2000.0), ("inflight", 4, 0.0)],
        ),
        (ModelLimits(tpm=1000), 1.0, [("tpm", 1000, 1000.0)]),  # tests shorten the window
        (ModelLimits(), 60.0, []),
    ],
)
def test_limit_sizes(
    limits: ModelLimits, window_s: float, sizes: list[tuple[str, int, float]]
) -> None:
    got = limit_sizes("m/x", limits, window_s)
    assert [(n.rsplit("-", 1)[1], s, pytest.approx(d)) for n, s, d in got] == sizes


def test_limits_come_from_eightflow_model_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "EIGHTFLOW_MODEL_LIMITS", json.dumps({"fake/a": {"rpm": 60, "in_flight": 2}})
    )
    assert get_settings().model_limits == {"fake/a": ModelLimits(rpm=60, in_flight=2)}
    gate = model_gate("fake/a")
    assert gate is not None and gate is model_gate("fake/a")  # one per process
    assert model_gate("fake/other") is None and model_gate(None) is None


@pytest.mark.parametrize(
    "value", ['{"fake/a": {"rpm": -1}}', '{"fake/a": {"tokens": 5}}', "not json"]
)
def test_a_bad_limit_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("EIGHTFLOW_MODEL_LIMITS", value)
    with pytest.raises(SettingsError, match="EIGHTFLOW_MODEL_LIMITS"):
        get_settings()


async def test_calls_in_flight_hold_across_limiters_of_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two runs (two limiters of 8) share the model's in-flight limit of 2."""
    monkeypatch.setenv("EIGHTFLOW_MODEL_LIMITS", json.dumps({"fake/shared": {"in_flight": 2}}))
    model_limits.reset_model_gates()
    open_now = peak = 0

    async def call(limiter: CallLimiter) -> None:
        nonlocal open_now, peak
        async with limiter.slot("fake/shared", 10):
            open_now += 1
            peak = max(peak, open_now)
            await asyncio.sleep(0.01)
            open_now -= 1

    runs = [CallLimiter(8), CallLimiter(8)]
    await asyncio.gather(*(call(runs[i % 2]) for i in range(12)))
    assert peak == 2


@pytest.mark.parametrize(
    ("reserved", "used", "active_after", "credit_after"),
    [
        (300, 100, 300, 200),  # the estimate was high: the rest stays as this process's credit
        (300, 300, 300, 0),
        (300, 450, 500, 50),  # the answer was longer: 150 more, drawn as a chunk of 200
        (300, None, 300, 0),  # no answer counted (an error): the estimate stays spent
    ],
)
async def test_tokens_are_reserved_then_settled(
    reserved: int, used: int | None, active_after: int, credit_after: int
) -> None:
    store = LocalLimits()
    gate = ModelGate("fake/tpm", ModelLimits(tpm=10_000), store, window_s=1e9)  # chunk: 200
    held = await gate.enter(reserved)
    assert (await store.read(gate.names["tpm"])).active_slots == reserved  # type: ignore[union-attr]
    await gate.exit(held, used)
    assert (await store.read(gate.names["tpm"])).active_slots == active_after  # type: ignore[union-attr]
    assert gate._credit["tpm"] == credit_after


async def test_most_calls_make_no_round_trip() -> None:
    """Requests and tokens are drawn a share of the limit at a time, spent locally."""
    store = LocalLimits()
    gate = ModelGate("fake/many", ModelLimits(rpm=6000, tpm=1_000_000), store, window_s=1e9)
    taken = 0
    real_take = store.take

    async def counting_take(*args: object, **kwargs: object) -> bool:
        nonlocal taken
        taken += 1
        return await real_take(*args, **kwargs)  # type: ignore[arg-type]

    store.take = counting_take  # type: ignore[method-assign]
    for _ in range(100):
        await gate.exit(await gate.enter(100), 100)
    assert taken <= 2 * (100 // 120 + 1) + 2  # rpm: 120 a chunk; tpm: 20,000 a chunk


@pytest.mark.prefect
async def test_stack_up_creates_the_limits_on_the_server() -> None:
    model = f"fake/m-{uuid.uuid4().hex[:6]}"
    store = PrefectLimits()
    names = await ensure_model_limits(store, {model: ModelLimits(rpm=120, tpm=9000, in_flight=3)})
    try:
        states = {n: await store.read(n) for n in names}
        sizes = {
            n.rsplit("-", 1)[1]: (s.limit, s.slot_decay_per_second) for n, s in states.items() if s
        }
        assert sizes == {"rpm": (120, 2.0), "tpm": (9000, 150.0), "inflight": (3, 0.0)}
        gate = ModelGate(model, ModelLimits(tpm=9000, in_flight=3), store)
        held = await gate.enter(500)
        assert (await store.read(gate.names["inflight"])).active_slots == 1  # type: ignore[union-attr]
        await gate.exit(held, 200)
        assert gate.slots is not None
        await gate.slots.sweep()  # the slot is handed on, or given back when idle
        assert (await store.read(gate.names["inflight"])).active_slots == 0  # type: ignore[union-attr]
    finally:
        for name in names:
            await store.delete(name)
