"""The baseline for ``key_latency.py``: a bare Textual app whose label a key changes.

    .venv/bin/python -m bench.key_latency_bare --presses 200

Same driver, same key path, same spacing; no engine, no flood. On a shared machine its
tail shows how much of the room's p99 is the machine (scheduling) rather than the room.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Static

from bench.key_latency import CountingDriver


class BareKeyApp(App[None]):
    BINDINGS = [("b", "bump", "bump")]

    def __init__(self) -> None:
        super().__init__()
        self.driver_class = CountingDriver
        self.count = 0
        self.want = -1
        self.shown_at = 0.0

    def compose(self) -> ComposeResult:
        yield Static("0", id="label")

    def action_bump(self) -> None:
        self.count += 1
        self.query_one("#label", Static).update(str(self.count))

    def post_display_hook(self) -> None:
        if self.want == self.count:
            self.shown_at = time.perf_counter()
            self.want = -1


async def measure(presses: int) -> list[float]:
    app = BareKeyApp()
    samples: list[float] = []
    async with app.run_test(size=(160, 48), headless=False) as pilot:
        await pilot.pause(0.5)
        rng = random.Random(1)
        for _ in range(presses):
            app.want = app.count + 1
            t0 = time.perf_counter()
            assert app._driver is not None
            app._driver.send_message(events.Key("b", "b"))
            deadline = t0 + 2.0
            while app.want != -1 and time.perf_counter() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.001)
            if app.want == -1:
                samples.append((app.shown_at - t0) * 1000)
            await asyncio.sleep(rng.uniform(0.05, 0.15))
    return samples


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--presses", type=int, default=200)
    args = p.parse_args()
    samples = sorted(asyncio.run(measure(args.presses)))
    p99 = samples[min(len(samples) - 1, int(0.99 * len(samples)))]
    p90 = samples[min(len(samples) - 1, int(0.90 * len(samples)))]
    print(
        f"bare presses={args.presses} answered={len(samples)} "
        f"p50={statistics.median(samples):.1f}ms p90={p90:.1f}ms p99={p99:.1f}ms "
        f"max={samples[-1]:.1f}ms"
    )


if __name__ == "__main__":
    main()
