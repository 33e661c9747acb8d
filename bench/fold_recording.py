"""Time to fold a recording with many distinct resources and nodes (replay, report).

    .venv/bin/python -m bench.fold_recording --n 20000

One cloud makes ``n`` resources, sees ``n`` nodes, then deletes every resource: what a
long show, or a hostile recording, holds. Prints the wall time of ``engine.state.fold``.
"""

from __future__ import annotations

import argparse
import time

from engine import events as ev
from engine.plan import STEPS
from engine.state import fold


def recording(n: int) -> list[ev.Event]:
    clouds = (ev.CloudInfo(name="c", label="C", steps=STEPS),)
    events: list[ev.Event] = [
        ev.RunStarted(run_id="r", demo="d", simulated=True, clouds=clouds),
        ev.CloudStarted(cloud="c"),
    ]
    events += [
        ev.ResourceRecorded(cloud="c", resource_type="server", resource_id=f"s{i}")
        for i in range(n)
    ]
    events += [ev.NodeObserved(node=f"c/node-{i}", cloud="c", liveness="live") for i in range(n)]
    events += [
        ev.ResourceDeleted(cloud="c", resource_type="server", resource_id=f"s{i}") for i in range(n)
    ]
    return events


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=20_000)
    args = p.parse_args()
    events = recording(args.n)
    began = time.perf_counter()
    fold(events)
    took = time.perf_counter() - began
    per = took / len(events) * 1e6
    print(f"n={args.n:,} events={len(events):,} fold={took:.2f}s ({per:.0f} us/event)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
