"""Key press -> screen updated, while ``--clouds`` clouds stream ``--rate`` log lines a second.

    .venv/bin/python -m bench.key_latency --rate 20000 --presses 200 --size 160x48
    .venv/bin/python -m bench.key_latency --clouds 100 --rate 20000 --size 160x48

The App runs in-process with a driver that renders real escape sequences (and counts
them) instead of a terminal. A ``tab`` key enters through the driver like typed input;
the time is taken from just before it is sent to the first display after the focus moved
(``post_display_hook``). Presses are spaced 50-150 ms at random so they land anywhere in
the 10 Hz tick. Prints p50, p90, p99 and max in milliseconds.
"""

# ruff: noqa: E402 (the frame cap is set before Textual is imported, as ``crossroom`` does)
from __future__ import annotations

from tui.frame_pace import allow_fast_frames

allow_fast_frames()  # as ``crossroom`` does before Textual is imported (this is a program)

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from textual import events
from textual.drivers.headless_driver import HeadlessDriver

from bench.flood import open_flood_room
from tui.app import RoomApp


class CountingDriver(HeadlessDriver):
    """Renders like a terminal driver (``is_headless`` False) and counts the bytes."""

    written = 0

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        CountingDriver.written += len(data.encode())


class LatencyApp(RoomApp):
    """The room, noting when a display shows the focus a key asked for."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.driver_class = CountingDriver
        self.want: str | None = None
        self.shown_at = 0.0

    def post_display_hook(self) -> None:
        if self.want is not None and self.focused_cloud == self.want:
            self.shown_at = time.perf_counter()
            self.want = None


async def measure(
    rate: float, presses: int, size: tuple[int, int], speed: float, clouds: int = 15
) -> list[float]:
    state = Path(tempfile.mkdtemp(prefix="xr-bench-"))
    app = LatencyApp(lambda: open_flood_room(state, rate, speed, clouds=clouds))
    samples: list[float] = []
    async with app.run_test(size=size, headless=False) as pilot:
        while not app.state.cloud_order:
            await pilot.pause(0.05)
        await asyncio.sleep(3.0)  # let the fleet and the flood get going
        samples += await press_tabs(app, presses, random.Random(1))
    return samples


async def press_tabs(app: LatencyApp, presses: int, rng: random.Random) -> list[float]:
    """Press ``tab`` ``presses`` times at random gaps; milliseconds from each press to the
    frame that showed its focus (a press not shown within 2 s is left out)."""
    samples: list[float] = []
    order = app.state.cloud_order
    for _ in range(presses):
        i = order.index(app.focused_cloud) if app.focused_cloud in order else 0
        app.want = order[(i + 1) % len(order)]
        t0 = time.perf_counter()
        assert app._driver is not None
        app._driver.send_message(events.Key("tab", None))
        deadline = t0 + 2.0
        while app.want is not None and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        if app.want is None:
            samples.append((app.shown_at - t0) * 1000)
        app.want = None
        await asyncio.sleep(rng.uniform(0.05, 0.15))
    return samples


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rate", type=float, default=20_000.0)
    p.add_argument("--presses", type=int, default=200)
    p.add_argument("--size", default="160x48")
    p.add_argument("--speed", type=float, default=5.0)
    p.add_argument("--clouds", type=int, default=15, help="simulated clouds streaming")
    args = p.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    samples = asyncio.run(measure(args.rate, args.presses, (cols, rows), args.speed, args.clouds))
    samples.sort()

    def pct(q: float) -> float:
        return samples[min(len(samples) - 1, int(q * len(samples)))]

    print(
        f"clouds={args.clouds} rate={args.rate:.0f} lines/s size={args.size} "
        f"presses={args.presses} "
        f"answered={len(samples)} p50={statistics.median(samples):.1f}ms "
        f"p90={pct(0.90):.1f}ms p99={pct(0.99):.1f}ms max={samples[-1]:.1f}ms "
        f"bytes_written={CountingDriver.written}"
    )


if __name__ == "__main__":
    main()
