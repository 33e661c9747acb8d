"""The garbage collector runs on the room's tick, never in the middle of a key's frame.

Under a log flood every repaint leaves thousands of cyclic strips; left to the
allocator's count, one young collection freed tens of thousands of them at once (tens
of milliseconds a key waited). Here a scripted room floods the screen for two seconds
of ticks while the collector's callbacks note, for every collection, whether it ran
from the room's tick.
"""

from __future__ import annotations

import gc
import sys
from types import FrameType
from typing import Any

import pytest
from harness import ScriptedRoom, frozen_app
from scenes import mid_show

from engine import events as ev
from tui.collector_schedule import FULL_EVERY, MIDDLE_EVERY, PHASE, collect_on_tick

pytestmark = pytest.mark.anyio


def _from_the_tick(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code is collect_on_tick.__code__:
            return True
        frame = frame.f_back
    return False


async def test_under_a_flood_every_collection_runs_from_the_tick() -> None:
    room = ScriptedRoom(mid_show())
    app = frozen_app(room)
    collections: list[tuple[int, bool]] = []

    def noted(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collections.append((info["generation"], _from_the_tick(sys._getframe(1))))

    thresholds = gc.get_threshold()
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            while app.room is None or not app.state.cloud_order:
                await pilot.pause(0.05)
            await pilot.pause(0.3)  # the schedule starts after the room's first frame
            cloud = app.state.cloud_order[0]
            gc.callbacks.append(noted)
            ticks = app._ticks
            n = 0
            while app._ticks < ticks + 20:  # two seconds of ticks under a flood of batches
                for _ in range(1000):
                    lines = (f"{n:08d} GET /v2.1/servers -> 200 ACTIVE", "...")
                    room.publish(ev.LogLines(cloud=cloud, lines=lines, t=app.state.t))
                    n += 1
                await pilot.pause(0.01)
            gc.callbacks.remove(noted)
    finally:
        if noted in gc.callbacks:
            gc.callbacks.remove(noted)
        gc.set_threshold(*thresholds)
    assert n >= 20_000  # allocations enough for the allocator's count to start collections
    assert len(collections) >= 15, collections  # about one per tick
    assert all(from_tick for _, from_tick in collections), collections


def test_the_older_generations_come_in_turn_off_the_slow_frames() -> None:
    """Young every tick, middle every ``MIDDLE_EVERY``, full every ``FULL_EVERY``; none of
    the older ones on a multiple of ten (the App's slow frames)."""
    seen: list[int] = []

    def noted(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(noted)
    try:
        for tick in range(FULL_EVERY * 2):
            collect_on_tick(tick)
    finally:
        gc.callbacks.remove(noted)
    by_tick = seen[-FULL_EVERY * 2 :]
    assert by_tick.count(2) == 2
    assert by_tick.count(1) == 2 * (FULL_EVERY // MIDDLE_EVERY) - 2
    assert all(gen == 0 for tick, gen in enumerate(by_tick) if tick % 10 == 0)
    assert by_tick[PHASE] == 2
