"""The monitor against three real servers: it classifies, and survives losing its node.

These tests assert what happens and in which order, with generous bounds; how fast the
failover is belongs to ``bench/monitor_failover.py`` (results in bench/RESULTS.md). Each
test picks its victim at run time (the node the monitor happens to use) and waits until
the monitor sees every node live first, so it passes alone and in any order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import pytest

from engine.cockroach.book import NodeBook
from engine.cockroach.connection import options_from_urls
from engine.cockroach.monitor import ClusterMonitor, MonitorTiming
from engine.cockroach.publish import Publisher
from engine.events import Event, MonitorStatus, NodeObserved, Notice

from .events import EventCollector
from .local_cluster import LocalCluster

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

GENEROUS_S = 30.0
"""Bound for anything that takes a liveness TTL (2 s here) and a poll or two: far above
what it takes, so a loaded machine never fails the test; speed is measured in bench/."""


@dataclass
class Running:
    monitor: ClusterMonitor
    rec: EventCollector


@asynccontextmanager
async def start_monitor(cluster: LocalCluster) -> AsyncIterator[Running]:
    rec = EventCollector()
    seeds, options = options_from_urls(cluster.sql_urls, 26257)
    book = NodeBook(seeds, 26257)
    monitor = ClusterMonitor(book, options, Publisher(rec), timing=MonitorTiming(store_every_s=1.0))
    async with anyio.create_task_group() as tg:
        tg.start_soon(monitor.run)
        with anyio.fail_after(GENEROUS_S):
            await monitor.up.wait()
        yield Running(monitor, rec)
        tg.cancel_scope.cancel()


def latest_liveness(rec: EventCollector) -> dict[str, str]:
    latest: dict[str, str] = {}
    for e in rec.of(NodeObserved):
        assert isinstance(e, NodeObserved)
        latest[e.node] = e.liveness
    return latest


async def all_live(run: Running, cluster: LocalCluster) -> None:
    want = len(cluster.nodes)
    await run.rec.wait_for(
        lambda _: list(latest_liveness(run.rec).values()).count("live") == want, within=GENEROUS_S
    )


def index_of(events: list[Event], match: object, start: int = 0) -> int:
    for i in range(start, len(events)):
        if match(events[i]):  # type: ignore[operator]
            return i
    raise AssertionError("event not found")


async def stop_connected_node(run: Running, cluster: LocalCluster, how: str) -> tuple[str, str]:
    """Stop the node the monitor uses; return its SQL address and its stage name."""
    await all_live(run, cluster)
    ep = run.monitor.endpoint
    assert ep is not None
    victim = cluster.node_at(ep.host, ep.port)
    name = next(n.name for n in run.monitor.book.nodes.values() if n.sql == ep)
    if how == "kill":
        cluster.kill(victim.node_id)
    else:
        cluster.drain(victim.node_id, wait=False)
    return str(ep), name


async def test_monitor_names_and_classifies_every_node(healthy_cluster: LocalCluster) -> None:
    async with start_monitor(healthy_cluster) as run:
        want = {"a/node-1": "live", "b/node-1": "live", "c/node-1": "live"}
        await run.rec.wait_for(lambda e: latest_liveness(run.rec) == want, within=GENEROUS_S)
        status = run.rec.of(MonitorStatus)[-1]
        assert isinstance(status, MonitorStatus) and status.state == "connected"
        assert "@" not in status.address and status.address.startswith("127.0.")


async def test_sigkill_of_connected_node_fails_over_to_a_live_node(
    healthy_cluster: LocalCluster,
) -> None:
    async with start_monitor(healthy_cluster) as run:
        mark = len(run.rec.events)
        old, name = await stop_connected_node(run, healthy_cluster, "kill")
        others = {n.sql_address for n in healthy_cluster.nodes if n.sql_address != old}

        def reconnected(e: Event) -> bool:
            return isinstance(e, MonitorStatus) and e.state == "connected" and e.address != old

        def suspect(e: Event) -> bool:
            return isinstance(e, NodeObserved) and e.node == name and e.liveness == "suspect"

        await run.rec.wait_for(reconnected, within=GENEROUS_S, after=mark)
        # The killed node stops heartbeating: the cluster (not the monitor) calls it suspect.
        await run.rec.wait_for(suspect, within=GENEROUS_S, after=mark)

    events = run.rec.events
    warned = index_of(
        events,
        lambda e: isinstance(e, Notice) and "failing over" in e.message and old in e.message,
        mark,
    )
    lost = index_of(
        events, lambda e: isinstance(e, MonitorStatus) and e.state == "reconnecting", mark
    )
    back = index_of(events, reconnected, mark)
    seen = index_of(events, suspect, mark)
    assert warned < back and lost < back < seen  # lost, then another node, then the verdict
    new = events[back]
    assert isinstance(new, MonitorStatus) and new.address in others
    assert new.message == "reconnected"
    assert any(str(n.sql) == old for n in run.monitor.book.nodes.values() if n.name == name)
    # Nobody else was harmed: the other two are still live.
    assert sorted(v for k, v in latest_liveness(run.rec).items() if k != name) == ["live", "live"]


async def test_drain_of_connected_node_fails_over_and_shows_it_draining(
    healthy_cluster: LocalCluster,
) -> None:
    async with start_monitor(healthy_cluster) as run:
        mark = len(run.rec.events)
        old, name = await stop_connected_node(run, healthy_cluster, "drain")

        def reconnected(e: Event) -> bool:
            return isinstance(e, MonitorStatus) and e.state == "connected" and e.address != old

        await run.rec.wait_for(reconnected, within=GENEROUS_S, after=mark)
        # The drained node announced it before leaving: the cluster shows it draining.
        await run.rec.wait_for(
            lambda e: isinstance(e, NodeObserved) and e.node == name and e.liveness == "draining",
            within=GENEROUS_S,
            after=mark,
        )
    notices = [n.message for n in run.rec.of(Notice) if isinstance(n, Notice)]
    assert any(old in m and "failing over" in m for m in notices), notices
