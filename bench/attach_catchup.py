"""Attach -> the screen holds the whole show, after an hour-long flood (goal <= 1 s).

    .venv/bin/python -m bench.attach_catchup --minutes 60 --rate 20000 --attaches 5

The rehearsal fleet runs to the end (every cloud joined, then a kill), then ``--minutes``
of ``bench/flood.py``'s flood (``--rate`` lines a second as one batch per cloud every 20 ms,
every line different) and of the once-a-second workload and health samples is published
into the room's hub as fast as it goes: what the hub holds after that long a show. The
room is served on a socket as the engine process serves it, and a screen in another
process attaches ``--attaches`` times: each time is connect, handshake, the whole
catch-up and its fold, until ``attach_room`` returns. Before that, one attach in this
process checks the screen's state equals the engine's (``log_count`` aside).
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import anyio
import anyio.lowlevel
import anyio.to_thread

from bench.flood import PERIOD_S
from engine import events as ev
from engine.room import Room, open_room
from engine.room_api import RoomOptions
from engine.room_client import attach_room
from engine.room_server import RoomServer, ShowFacts
from engine.sim.fleet import rehearsal_demo
from engine.state import RoomState


def comparable(state: RoomState) -> RoomState:
    clouds = {name: replace(c, log_count=0) for name, c in state.clouds.items()}
    return replace(state, clouds=state.clouds.update(clouds))  # type: ignore[attr-defined]


async def publish_flood(room: Room, minutes: float, rate: float) -> int:
    """An hour of the flood and the samples, straight into the hub; returns events published."""
    clouds = [c.name for c in room.demo.clouds]
    per_batch = max(1, round(rate * PERIOD_S / len(clouds)))
    ticks = round(minutes * 60 / PERIOD_S)
    per_second = round(1 / PERIOD_S)
    counter = itertools.count()
    published = 0
    for tick in range(ticks):
        for cloud in clouds:
            lines = tuple(
                f"{n:08d} GET /v2.1/servers/{cloud}-server-{n % 3 + 1} -> 200 ACTIVE "
                f"(0.0{n % 10}s) flavor m1.medium image ubuntu-22.04"
                for n in itertools.islice(counter, per_batch)
            )
            room.hub.publish(ev.LogLines(cloud=cloud, lines=lines))
        published += len(clouds)
        if tick % per_second == 0:
            second = tick // per_second
            room.hub.publish(ev.WorkloadSample(ops_per_s=900.0 + second % 50, p99_ms=12.5))
            room.hub.publish(ev.ClusterHealthObserved(ranges=60, replicas=180))
            published += 2
            await anyio.lowlevel.checkpoint()
    return published


async def serve(args: argparse.Namespace) -> int:
    demo = rehearsal_demo()
    with tempfile.TemporaryDirectory(prefix="xr-bench-") as state:
        options = RoomOptions(seed=1, speed=50.0, state_dir=Path(state), record=False)
        async with open_room(demo, options) as room:
            await room.start()
            await room.wait_idle()
            await room.kill("canonical/node-1")
            began = time.perf_counter()
            published = await publish_flood(room, args.minutes, args.rate)
            took = time.perf_counter() - began
            kept = len(room.hub.catch_up())
            print(
                f"published {published:,} events ({args.minutes:g} min at {args.rate:.0f} "
                f"lines/s) in {took:.0f}s; hub seq {room.hub.seq:,}, catch-up {kept:,} events"
            )
            server = RoomServer(room, ShowFacts(room.run_dir.run_id, demo.name, False))
            path = room.run_dir.socket
            async with anyio.create_task_group() as tg:
                await tg.start(server.serve, path)
                async with attach_room(path) as screen:
                    same = comparable(screen.state) == comparable(room.state)
                    print(f"in-process attach: state equals the engine's: {same}")
                command = [sys.executable, "-m", "bench.attach_catchup", "--attach", str(path)]
                command += ["--attaches", str(args.attaches)]
                child = await anyio.to_thread.run_sync(
                    lambda: subprocess.run(command, capture_output=True, text=True, check=False)
                )
                print(child.stdout.strip() or child.stderr.strip())
                server.stop("benchmark over")
    return 0


async def attach(path: str, attaches: int) -> int:
    times = []
    for _ in range(attaches):
        began = time.perf_counter()
        async with attach_room(path, "audience") as screen:
            times.append(time.perf_counter() - began)
            held = screen.received
            joined = sum(c.status == "joined" for c in screen.state.cloud_list())
    shown = " ".join(f"{t * 1000:.0f}" for t in times)
    print(
        f"attach -> whole state (ms), screen in its own process: {shown} "
        f"(max {max(times) * 1000:.0f} ms; {held:,} events caught up, {joined} clouds joined)"
    )
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--rate", type=float, default=20_000.0)
    p.add_argument("--attaches", type=int, default=5)
    p.add_argument("--attach", metavar="SOCKET", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.attach:
        return anyio.run(attach, args.attach, args.attaches)
    return anyio.run(serve, args)


if __name__ == "__main__":
    raise SystemExit(main())
