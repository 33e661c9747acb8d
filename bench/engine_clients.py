"""The engine process's CPU and the bytes it sends, with 0, 1 and 4 screens attached.

    .venv/bin/python -m bench.engine_clients --clients 0 1 4 --seconds 20 --rate 20000

For each count, an engine runs in a process of its own, as ``engine.engine_process``
runs it: the rehearsal fleet (started at once, ``--speed``) plus ``bench/flood.py``'s
flood published into the hub (``--rate`` lines a second, one batch per cloud every 20 ms),
served on its socket. ``N`` screens attach, each in its own process (``attach_room``, the
screen's side without the drawing), and for ``--seconds`` the engine's CPU seconds (user +
system, from /proc) and every screen's received bytes and events are counted.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

from bench.flood import PERIOD_S
from engine import events as ev
from engine.room import Room, open_room
from engine.room_api import RoomOptions
from engine.room_client import attach_room
from engine.room_server import RoomServer, ShowFacts
from engine.sim.fleet import rehearsal_demo


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def hub_flood(room: Room, rate: float) -> None:
    """``rate`` lines a second into the hub, as the flood room sends them to a screen."""
    clouds = [c.name for c in room.demo.clouds]
    per_batch = max(1, round(rate * PERIOD_S / len(clouds)))
    counter = itertools.count()
    while True:
        await anyio.sleep(PERIOD_S)
        for cloud in clouds:
            lines = tuple(
                f"{n:08d} GET /v2.1/servers/{cloud}-server-{n % 3 + 1} -> 200 ACTIVE "
                f"(0.0{n % 10}s) flavor m1.medium image ubuntu-22.04"
                for n in itertools.islice(counter, per_batch)
            )
            room.hub.publish(ev.LogLines(cloud=cloud, lines=lines))


async def serve(state: str, rate: float, speed: float) -> int:
    demo = rehearsal_demo()
    options = RoomOptions(seed=1, speed=speed, state_dir=Path(state), record=True)
    async with open_room(demo, options) as room:
        server = RoomServer(room, ShowFacts(room.run_dir.run_id, demo.name, False))
        async with anyio.create_task_group() as tg:
            await tg.start(server.serve, room.run_dir.socket)
            await room.start()
            tg.start_soon(hub_flood, room, rate)
            print(room.run_dir.socket, flush=True)
            with anyio.open_signal_receiver(signal.SIGTERM) as signals:
                async for _ in signals:
                    break
            server.stop("benchmark over")
            tg.cancel_scope.cancel()
    return 0


async def screen(path: str, seconds: float) -> int:
    async with attach_room(path, "audience") as room:
        events, bytes_, resyncs = room.received, room.bytes_received, room.resyncs
        await anyio.sleep(seconds)
        print(
            room.received - events,
            room.bytes_received - bytes_,
            room.resyncs - resyncs,
            flush=True,
        )
    return 0


def measure(clients: int, seconds: float, rate: float, speed: float) -> str:
    here = [sys.executable, "-m", "bench.engine_clients"]
    with tempfile.TemporaryDirectory(prefix="xr-bench-") as state:
        engine = subprocess.Popen(
            [*here, "--serve", state, "--rate", str(rate), "--speed", str(speed)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert engine.stdout is not None
            path = engine.stdout.readline().strip()
            time.sleep(2.0)  # past start-up
            screens = [
                subprocess.Popen(
                    [*here, "--screen", path, "--seconds", str(seconds)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for _ in range(clients)
            ]
            time.sleep(1.0)  # every screen attached and caught up
            began, cpu = time.monotonic(), cpu_seconds(engine.pid)
            time.sleep(seconds - 2.0)
            used = cpu_seconds(engine.pid) - cpu
            took = time.monotonic() - began
            counts = [tuple(map(int, s.communicate()[0].split())) for s in screens]
        finally:
            engine.send_signal(signal.SIGTERM)
            engine.wait(timeout=30)
    per_screen = " ".join(
        f"[{n / seconds:,.0f} ev/s {b / seconds / 1e6:.2f} MB/s {r} resyncs]" for n, b, r in counts
    )
    total = sum(b for _n, b, _r in counts) / seconds
    return (
        f"clients={clients} engine_cpu={used / took:.2f} s/s ({used:.1f} s in {took:.1f} s) "
        f"sent={total / 1e6:.2f} MB/s {per_screen}"
    )


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, nargs="+", default=[0, 1, 4])
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--rate", type=float, default=20_000.0)
    p.add_argument("--speed", type=float, default=50.0)
    p.add_argument("--serve", metavar="STATE_DIR", help=argparse.SUPPRESS)
    p.add_argument("--screen", metavar="SOCKET", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        return anyio.run(serve, args.serve, args.rate, args.speed)
    if args.screen:
        return anyio.run(screen, args.screen, args.seconds)
    print(f"rate={args.rate:.0f} lines/s speed={args.speed:g} seconds={args.seconds:g}")
    for clients in args.clients:
        print(measure(clients, args.seconds, args.rate, args.speed), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
