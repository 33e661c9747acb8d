"""Frame time when a cloud sends a 1 MB log line (and a 1 MB error), vs a normal line.

    .venv/bin/python -m bench.long_line --samples 40 --size 160x48

The App runs in-process with the key-latency benchmark's driver, which renders real
escape sequences (``is_headless`` False) instead of writing to a terminal. Each sample
publishes one ``LogLines`` event (a line of ``--length`` characters, each line different)
and a ``StepProgress`` whose message is as long, then folds and shows them as a tick
does and times from the publish to the end of the next display (``post_display_hook``),
first on the room's grid (the pane's log row, its progress row), then on the zoom (the
full log view), normal and long lines taking turns. Prints p50, p90 and max in
milliseconds per view and line length.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from bench.key_latency import CountingDriver
from engine import events as ev
from engine.events import NoticeLevel
from engine.plan import STEPS
from engine.room_api import Playback, Reply, RoomCommands, refused
from engine.state import RoomState, fold
from tui.app import RoomApp

STILL = refused("a still room for the benchmark")
CLOUDS = ("alpha", "beta", "gamma", "delta")


class StillRoom:
    """A room that only publishes what the benchmark hands it (no engine, no timers)."""

    def __init__(self) -> None:
        clouds = tuple(ev.CloudInfo(name=c, label=c.title(), steps=STEPS) for c in CLOUDS)
        self.events: list[ev.Event] = [
            ev.RunStarted(run_id="bench", demo="long line", simulated=True, clouds=clouds),
            *(ev.CloudStarted(cloud=c) for c in CLOUDS),
            *(ev.StepStarted(cloud=c, step="servers") for c in CLOUDS),
        ]
        self._sinks: list[ev.EventSink] = []

    @property
    def state(self) -> RoomState:
        return fold(self.events)

    def subscribe(self, sink: ev.EventSink, *, replay: bool = True) -> Callable[[], None]:
        for event in self.events if replay else ():
            sink(event)
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink)

    def publish(self, event: ev.Event) -> None:
        self.events.append(event)
        for sink in self._sinks:
            sink(event)

    # A still room answers every command "no": it only holds its events.
    playback: Playback | None = None

    def notice(self, message: str, level: NoticeLevel = "info", cloud: str | None = None) -> None:
        self.publish(ev.Notice(level=level, message=message, cloud=cloud))

    async def wait_idle(self) -> None: ...
    async def start(self, clouds: Sequence[str] | None = None) -> Reply:
        return STILL

    async def retry(self, cloud: str) -> Reply:
        return STILL

    async def cancel(self, cloud: str) -> Reply:
        return STILL

    async def kill(self, target: str) -> Reply:
        return STILL

    async def revive(self, target: str) -> Reply:
        return STILL

    async def teardown(self, clouds: Sequence[str] | None = None) -> Reply:
        return STILL

    async def check(self) -> Reply:
        return STILL

    async def toggle_pause(self) -> Reply:
        return STILL

    async def faster(self) -> Reply:
        return STILL

    async def slower(self) -> Reply:
        return STILL

    async def next_marker(self) -> Reply:
        return STILL

    async def previous_marker(self) -> Reply:
        return STILL

    async def fire_next_cue(self) -> Reply:
        return STILL

    async def release_gate(self) -> Reply:
        return STILL


class FrameApp(RoomApp):
    """The room, noting when the next display has been written."""

    def __init__(self, room: StillRoom) -> None:
        @asynccontextmanager
        async def opener() -> AsyncIterator[RoomCommands]:
            yield room

        super().__init__(opener)
        self.driver_class = CountingDriver
        self.displayed = asyncio.Event()

    def post_display_hook(self) -> None:
        self.displayed.set()


async def _frame(app: FrameApp, room: StillRoom, i: int, length: int) -> float:
    text = f"{i:06d} " + "x" * max(0, length - 7)
    began = time.perf_counter()
    room.publish(ev.LogLines(cloud=CLOUDS[0], lines=(text,), t=float(i)))
    room.publish(ev.StepProgress(cloud=CLOUDS[0], step="servers", message=text, t=float(i)))
    app.displayed.clear()
    app.fold_inbox()
    app._ticks = 10 * i  # the first pane's turn to repaint its log (it is every pane's, in time)
    app.refresh_view(slow=True, timers=True)
    await asyncio.wait_for(app.displayed.wait(), 30)
    return (time.perf_counter() - began) * 1000


async def measure(samples: int, size: tuple[int, int], lengths: Sequence[int]) -> None:
    room = StillRoom()
    app = FrameApp(room)
    async with app.run_test(size=size) as pilot:
        for _ in range(50):
            if app.state.cloud_order:
                break
            await pilot.pause(0.05)
        i = 0
        for view in ("grid", "zoom"):
            if view == "zoom":
                await pilot.press("1", "enter")
                await pilot.pause(0.3)
            times: dict[int, list[float]] = {length: [] for length in lengths}
            for _ in range(samples):  # lengths interleaved: the machine's load hits both
                for length in lengths:
                    i += 1
                    times[length].append(await _frame(app, room, i, length))
                    await pilot.pause(0.02)
            for length, got in times.items():
                got.sort()
                print(
                    f"view={view} size={size[0]}x{size[1]} line={length:,} chars "
                    f"samples={samples} p50={statistics.median(got):.1f}ms "
                    f"p90={got[int(0.9 * (len(got) - 1))]:.1f}ms max={got[-1]:.1f}ms"
                )


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=40)
    p.add_argument("--size", default="160x48")
    p.add_argument("--lengths", default="80,1000000", help="line lengths, comma separated")
    args = p.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    lengths = [int(x) for x in args.lengths.split(",")]
    asyncio.run(measure(args.samples, (w, h), lengths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
