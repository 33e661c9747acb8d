"""The rehearsal fleet plus a log flood, for the screen's benchmarks.

``FloodRoom`` wraps the real rehearsal room and adds ``rate`` log lines a second, spread
over every cloud, delivered to the screen's sink as ``LogLines`` batches every
``PERIOD_S`` (as a busy fleet would). It is a benchmark fixture, not part of the product:
the real room's recording does not get the flood.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import anyio

from engine import events as ev
from engine.config.model import CloudConfig, DemoConfig, SimConfig
from engine.events import NoticeLevel
from engine.room import Room, open_room
from engine.room_api import Playback, Reply, RoomOptions
from engine.sim.fleet import rehearsal_demo
from engine.state import RoomState

PERIOD_S = 0.02
"""One batch per cloud every 20 ms (k9s flushes logs every 50 ms). Lines start with a
sequence number so every line differs in what a pane shows (an honest worst case)."""


class FloodRoom:
    def __init__(self, room: Room, rate: float) -> None:
        self.room = room
        self.rate = rate
        self.sent = 0
        self._sinks: list[ev.EventSink] = []

    @property
    def state(self) -> RoomState:
        return self.room.state

    def subscribe(self, sink: ev.EventSink, *, replay: bool = True) -> Callable[[], None]:
        off = self.room.subscribe(sink, replay=replay)
        self._sinks.append(sink)

        def unsubscribe() -> None:
            off()
            if sink in self._sinks:
                self._sinks.remove(sink)

        return unsubscribe

    def feed(self, sink: ev.EventSink) -> None:
        """Send the flood (only the flood) to ``sink`` too: the room's hub, when an engine
        process serves it to screens over its socket (``bench.key_latency_socket``)."""
        self._sinks.append(sink)

    async def flood(self) -> None:
        clouds = [c.name for c in self.room.demo.clouds]
        per_batch = max(1, round(self.rate * PERIOD_S / len(clouds)))
        counter = itertools.count()
        while True:
            await anyio.sleep(PERIOD_S)
            if not self.rate:
                continue
            t = self.room.clock.now()
            for cloud in clouds:
                lines = tuple(
                    f"{n:08d} GET /v2.1/servers/{cloud}-server-{n % 3 + 1} -> 200 ACTIVE "
                    f"(0.0{n % 10}s) flavor m1.medium image ubuntu-22.04"
                    for n in itertools.islice(counter, per_batch)
                )
                event = ev.LogLines(cloud=cloud, lines=lines, t=t)
                self.sent += len(lines)
                for sink in list(self._sinks):
                    sink(event)

    # The rest of the protocol: the room's own answers.
    @property
    def playback(self) -> Playback | None:
        return self.room.playback

    def notice(self, message: str, level: NoticeLevel = "info", cloud: str | None = None) -> None:
        self.room.notice(message, level, cloud)

    async def wait_idle(self) -> None:
        await self.room.wait_idle()

    async def start(self, clouds: Sequence[str] | None = None) -> Reply:
        return await self.room.start(clouds)

    async def retry(self, cloud: str) -> Reply:
        return await self.room.retry(cloud)

    async def cancel(self, cloud: str) -> Reply:
        return await self.room.cancel(cloud)

    async def kill(self, target: str) -> Reply:
        return await self.room.kill(target)

    async def revive(self, target: str) -> Reply:
        return await self.room.revive(target)

    async def teardown(self, clouds: Sequence[str] | None = None) -> Reply:
        return await self.room.teardown(clouds)

    async def check(self) -> Reply:
        return await self.room.check()

    async def toggle_pause(self) -> Reply:
        return await self.room.toggle_pause()

    async def faster(self) -> Reply:
        return await self.room.faster()

    async def slower(self) -> Reply:
        return await self.room.slower()

    async def next_marker(self) -> Reply:
        return await self.room.next_marker()

    async def previous_marker(self) -> Reply:
        return await self.room.previous_marker()

    async def fire_next_cue(self) -> Reply:
        return await self.room.fire_next_cue()

    async def release_gate(self) -> Reply:
        return await self.room.release_gate()


def fleet_demo(clouds: int = 15) -> DemoConfig:
    """The rehearsal fleet of ``clouds`` clouds: the 2017 fifteen, then numbered extras."""
    base = rehearsal_demo()
    fleet = list(base.clouds[:clouds])
    for i in range(len(fleet) + 1, clouds + 1):
        fleet.append(
            CloudConfig(name=f"cloud{i:03d}", label=f"Cloud {i}", provider="sim", sim=SimConfig())
        )
    return replace(base, clouds=tuple(fleet))


@asynccontextmanager
async def open_flood_room(
    state_dir: Path, rate: float, speed: float = 50.0, start: bool = True, clouds: int = 15
) -> AsyncIterator[FloodRoom]:
    """The rehearsal fleet of ``clouds`` clouds (started at once when ``start``) with
    ``rate`` extra lines/s spread over them."""
    options = RoomOptions(seed=1, speed=speed, state_dir=state_dir)
    async with open_room(fleet_demo(clouds), options) as room:
        flood = FloodRoom(room, rate)
        if start:
            await room.start()
        async with anyio.create_task_group() as tg:
            tg.start_soon(flood.flood)
            try:
                yield flood
            finally:
                tg.cancel_scope.cancel()
