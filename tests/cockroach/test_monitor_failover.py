"""The monitor against three real servers: it classifies, and survives losing its node."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import pytest

from engine.clock import ScaledClock
from engine.cockroach.book import NodeBook
from engine.cockroach.connection import options_from_urls
from engine.cockroach.monitor import ClusterMonitor, MonitorTiming
from engine.cockroach.publish import Publisher
from engine.events import MonitorStatus, NodeObserved, Notice

from .events import Recorder
from .local_cluster import LocalCluster

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

FAILOVER_BUDGET_S = 2.0


@dataclass
class Running:
    monitor: ClusterMonitor
    rec: Recorder


@asynccontextmanager
async def start_monitor(cluster: LocalCluster) -> AsyncIterator[Running]:
    rec = Recorder()
    seeds, options = options_from_urls(cluster.sql_urls, 26257)
    book = NodeBook(seeds, 26257)
    monitor = ClusterMonitor(
        book, options, Publisher(rec, ScaledClock(1.0)), timing=MonitorTiming(store_every_s=1.0)
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(monitor.run)
        with anyio.fail_after(10):
            await monitor.up.wait()
        yield Running(monitor, rec)
        tg.cancel_scope.cancel()


def live_nodes(rec: Recorder) -> dict[str, str]:
    latest: dict[str, str] = {}
    for e in rec.of(NodeObserved):
        assert isinstance(e, NodeObserved)
        latest[e.node] = e.liveness
    return latest


async def fail_over(run: Running, cluster: LocalCluster, how: str) -> tuple[float, str]:
    """Stop the node the monitor uses; return seconds until it publishes from another."""
    ep = run.monitor.endpoint
    assert ep is not None
    victim = cluster.node_at(ep.host, ep.port)
    mark = len(run.rec.events)
    t0 = time.monotonic()
    if how == "kill":
        cluster.kill(victim.node_id)
    else:
        cluster.drain(victim.node_id, wait=False)
    await run.rec.wait_for(
        lambda e: isinstance(e, MonitorStatus) and e.state == "connected" and e.address != str(ep),
        within=10,
        after=mark,
    )
    # ... and it keeps classifying: a fresh poll's node states arrive after the reconnect.
    await run.rec.wait_for(lambda e: isinstance(e, NodeObserved), within=5, after=mark)
    elapsed = time.monotonic() - t0
    return elapsed, str(ep)


async def test_monitor_names_and_classifies_every_node(healthy_cluster: LocalCluster) -> None:
    async with start_monitor(healthy_cluster) as run:
        want = {"a/node-1": "live", "b/node-1": "live", "c/node-1": "live"}
        await run.rec.wait_for(lambda e: live_nodes(run.rec) == want, within=5)
        status = run.rec.of(MonitorStatus)[-1]
        assert isinstance(status, MonitorStatus) and status.state == "connected"
        assert "@" not in status.address and status.address.startswith("127.0.")


async def test_sigkill_of_connected_node_fails_over_within_budget(
    healthy_cluster: LocalCluster, record_property: pytest.RecordProperty
) -> None:
    async with start_monitor(healthy_cluster) as run:
        elapsed, old = await fail_over(run, healthy_cluster, "kill")
        record_property("failover_sigkill_s", round(elapsed, 3))
        print(f"\nfailover after SIGKILL of {old}: {elapsed:.3f} s")
        assert elapsed < FAILOVER_BUDGET_S
        notices = [e for e in run.rec.of(Notice) if isinstance(e, Notice)]
        assert any("failing over" in n.message and old in n.message for n in notices)
        # The killed node stops heartbeating: the cluster (not the monitor) calls it suspect.
        host, port = old.rsplit(":", 1)
        name = f"{healthy_cluster.node_at(host, int(port)).cloud}/node-1"
        await run.rec.wait_for(
            lambda e: isinstance(e, NodeObserved) and e.node == name and e.liveness == "suspect",
            within=6,
        )


async def test_drain_of_connected_node_fails_over_within_budget(
    healthy_cluster: LocalCluster, record_property: pytest.RecordProperty
) -> None:
    async with start_monitor(healthy_cluster) as run:
        elapsed, old = await fail_over(run, healthy_cluster, "drain")
        record_property("failover_drain_s", round(elapsed, 3))
        print(f"\nfailover after drain (57P01) of {old}: {elapsed:.3f} s")
        assert elapsed < FAILOVER_BUDGET_S + 0.5  # + the drain's 0.5 s unready phase
        notices = [n.message for n in run.rec.of(Notice) if isinstance(n, Notice)]
        assert any(old in m and "failing over" in m for m in notices), notices
        # The drained node announced it before leaving: the cluster shows it draining.
        host, port = old.rsplit(":", 1)
        name = f"{healthy_cluster.node_at(host, int(port)).cloud}/node-1"
        await run.rec.wait_for(
            lambda e: isinstance(e, NodeObserved) and e.node == name and e.liveness == "draining",
            within=4,
        )
