"""How fast the cluster monitor moves to another node when the one it uses dies.

Run: ``.venv/bin/python -m bench.monitor_failover [--rounds 5]``. Starts three fake
CockroachDB nodes (real PostgreSQL servers, ``tests/cockroach/local_cluster.py``), then
per round and per way of dying (SIGKILL of the node's process group; SIGTERM, a drain with
57P01) starts a monitor, waits until it sees every node live, stops the node it is
connected to and times from the signal to the monitor publishing again from another node
(its ``connected`` status and the next poll's node states). The stopped node is restarted
before the next round. Prints one line per failover and the median and maximum per kind.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import anyio

from engine.clock import ScaledClock
from engine.cockroach.book import NodeBook
from engine.cockroach.connection import options_from_urls
from engine.cockroach.monitor import ClusterMonitor
from engine.cockroach.publish import Publisher
from engine.events import Event, MonitorStatus, NodeObserved
from tests.cockroach.events import EventCollector
from tests.cockroach.local_cluster import LocalCluster


async def one_failover(cluster: LocalCluster, how: str) -> float:
    rec = EventCollector()
    seeds, options = options_from_urls(cluster.sql_urls, 26257)
    monitor = ClusterMonitor(NodeBook(seeds, 26257), options, Publisher(rec, ScaledClock(1.0)))
    async with anyio.create_task_group() as tg:
        tg.start_soon(monitor.run)

        def all_live(_: Event) -> bool:
            return monitor.book.live_count() == len(cluster.nodes)

        await rec.wait_for(all_live, within=60)
        ep = monitor.endpoint
        assert ep is not None
        victim = cluster.node_at(ep.host, ep.port)
        mark = len(rec.events)
        t0 = time.monotonic()
        if how == "kill":
            cluster.kill(victim.node_id)
        else:
            cluster.drain(victim.node_id, wait=False)
        back = await rec.wait_for(
            lambda e: (
                isinstance(e, MonitorStatus) and e.state == "connected" and e.address != str(ep)
            ),
            within=60,
            after=mark,
        )
        await rec.wait_for(
            lambda e: isinstance(e, NodeObserved), within=60, after=rec.events.index(back)
        )
        elapsed = time.monotonic() - t0
        tg.cancel_scope.cancel()
    if how == "drain":
        assert victim.proc is not None
        victim.proc.wait(30)
    cluster.restart(victim.node_id)
    return elapsed


async def main_async(rounds: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="crossroom-bench-", dir="/tmp"))
    cluster = LocalCluster(
        base,
        [("a", 1), ("b", 1), ("c", 1)],
        subnet=random.randrange(10, 250),
        ttl=2.0,
        heartbeat=1.0,
        status_every=1.0,
        time_until_store_dead="5m",
    )
    results: dict[str, list[float]] = {"kill": [], "drain": []}
    with cluster:
        for i in range(rounds):
            for how in results:
                s = await one_failover(cluster, how)
                results[how].append(s)
                print(f"round {i + 1} {how}: failover {s:.3f} s", flush=True)
    shutil.rmtree(base, ignore_errors=True)  # kept when something failed, to read its logs
    for how, values in results.items():
        print(
            f"{how}: n={len(values)} median={statistics.median(values):.3f} s "
            f"max={max(values):.3f} s"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    anyio.run(main_async, a.rounds)


if __name__ == "__main__":
    main()
