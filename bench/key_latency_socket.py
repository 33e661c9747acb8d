"""Key press -> frame with the engine in its own process (over its socket) vs in process.

    .venv/bin/python -m bench.key_latency_socket --rate 20000 --presses 200 --rounds 2

Same run, modes alternating (in process, socket, in process, socket …) so the machine's
load hits both alike. Both run ``bench.flood``'s flood room with the flood going through
the room's hub as a real show's logs do (stamped, redacted, recorded). In process:
``bench.key_latency``'s App on that room. Over the socket: an engine process (this module
with ``--serve``) runs it, served by ``engine.room_server.RoomServer``, and the same App
attaches with ``engine.room_client.attach_room``. Each press is timed from the key
entering the driver to the first display showing the moved focus (the method of
``bench.key_latency.measure``). Prints p50/p90/p99/max per mode and the p99 difference.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio

from bench.flood import open_flood_room
from bench.key_latency import CountingDriver, LatencyApp, press_tabs
from engine import events as ev
from engine.room_api import RoomCommands
from engine.room_client import attach_room
from engine.room_server import RoomServer, ShowFacts

READY_S = 30.0
Opener = Callable[[], AbstractAsyncContextManager[RoomCommands]]


# --- the engine side ------------------------------------------------------------------------


async def serve(socket_path: Path, state: Path, rate: float, speed: float, clouds: int) -> None:
    """The flood room served on ``socket_path`` until SIGTERM."""
    async with open_flood_room(state, rate, speed, clouds=clouds) as flood:
        room = flood.room
        flood.feed(room.hub.publish)
        facts = ShowFacts(room.run_dir.run_id, "key latency bench", rehearsal=False)
        server = RoomServer(room, facts)
        async with anyio.create_task_group() as tg:

            async def stop_on_term() -> None:
                with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    async for _ in signals:
                        server.stop("SIGTERM")

            tg.start_soon(stop_on_term)
            await server.serve(socket_path)
            tg.cancel_scope.cancel()


def spawn_engine(
    socket_path: Path, state: Path, rate: float, speed: float, clouds: int
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench.key_latency_socket", "--serve", str(socket_path)]
    command += ["--state-dir", str(state), "--rate", repr(rate), "--speed", repr(speed)]
    command += ["--clouds", str(clouds)]
    log = open(state / "bench-engine.log", "wb")  # noqa: SIM115 (the child keeps it)
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
    )
    log.close()
    deadline = time.monotonic() + READY_S
    while not socket_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the bench engine did not start: see {state / 'bench-engine.log'}")
        time.sleep(0.05)
    return process


# --- the screen side ------------------------------------------------------------------------


async def measure(
    opener: Opener, presses: int, size: tuple[int, int], seed: int
) -> tuple[list[float], float]:
    """``bench.key_latency.measure`` for any room opener; also the log lines a second that
    reached the screen meanwhile (so a mode cannot look fast by getting less flood)."""
    app = LatencyApp(opener)
    samples: list[float] = []
    received = [0]

    def count(event: ev.Event) -> None:
        if isinstance(event, ev.LogLines):
            received[0] += len(event.lines)

    async with app.run_test(size=size, headless=False) as pilot:
        while not app.state.cloud_order or app.room is None:
            await pilot.pause(0.05)
        await asyncio.sleep(3.0)  # let the fleet and the flood get going
        app.room.subscribe(count, replay=False)
        started = time.perf_counter()
        samples += await press_tabs(app, presses, random.Random(seed))
        lines_per_s = received[0] / (time.perf_counter() - started)
    return samples, lines_per_s


@asynccontextmanager
async def hub_flood_room(
    state: Path, rate: float, speed: float, clouds: int
) -> AsyncIterator[RoomCommands]:
    """The flood room with its flood going through the room's hub, as in the engine
    process: both modes then stamp, redact and record every line; only the socket differs."""
    async with open_flood_room(state, rate, speed, clouds=clouds) as flood:
        flood.feed(flood.room.hub.publish)
        yield flood.room


def in_process(state: Path, rate: float, speed: float, clouds: int) -> Opener:
    return lambda: hub_flood_room(state, rate, speed, clouds)


def socket_opener(socket_path: Path) -> Opener:
    return lambda: attach_room(socket_path)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(samples: list[float]) -> str:
    return (
        f"answered={len(samples)} p50={statistics.median(samples):.1f}ms "
        f"p90={pct(samples, 0.90):.1f}ms p99={pct(samples, 0.99):.1f}ms "
        f"max={max(samples):.1f}ms"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rate", type=float, default=20_000.0)
    p.add_argument("--presses", type=int, default=200, help="per mode and round")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--size", default="160x48")
    p.add_argument("--speed", type=float, default=5.0)
    p.add_argument("--clouds", type=int, default=15)
    p.add_argument("--serve", metavar="SOCKET", help=argparse.SUPPRESS)
    p.add_argument("--state-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        anyio.run(serve, Path(args.serve), Path(args.state_dir), args.rate, args.speed, args.clouds)
        return
    cols, rows = (int(x) for x in args.size.split("x"))
    results: dict[str, list[float]] = {"in-process": [], "socket": []}
    for n in range(args.rounds):
        for mode in results:
            state = Path(tempfile.mkdtemp(prefix="xr-bench-"))
            engine = None
            if mode == "socket":
                socket_path = state / "engine.sock"
                engine = spawn_engine(socket_path, state, args.rate, args.speed, args.clouds)
                opener: Opener = socket_opener(socket_path)
            else:
                opener = in_process(state, args.rate, args.speed, args.clouds)
            try:
                samples, lines_per_s = asyncio.run(measure(opener, args.presses, (cols, rows), n))
            finally:
                if engine is not None:
                    engine.send_signal(signal.SIGTERM)
                    engine.wait(30)
            results[mode] += samples
            load = os.getloadavg()[0]
            print(
                f"round {n + 1} {mode:<10} {summary(samples)} "
                f"lines_in={lines_per_s:.0f}/s load1={load:.2f}",
                flush=True,
            )
    print(
        f"clouds={args.clouds} rate={args.rate:.0f} lines/s size={args.size} "
        f"presses={args.presses}x{args.rounds} bytes_written={CountingDriver.written}"
    )
    for mode, samples in results.items():
        print(f"{mode:<10} {summary(samples)}")
    diff = pct(results["socket"], 0.99) - pct(results["in-process"], 0.99)
    print(f"p99 socket - in-process: {diff:+.1f}ms (goal: at most +10 ms)")


if __name__ == "__main__":
    main()
