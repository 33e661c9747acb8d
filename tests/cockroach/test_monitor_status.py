"""The monitor's own status and its reading of one poll, without a server.

Before any node exists the monitor is "waiting for the first node", never "down"; once a
cluster has answered, losing it is "reconnecting", then "down". A poll's clock and
expirations stay integer nanoseconds all the way to the published state.
"""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest

from engine.cockroach.book import NodeBook
from engine.cockroach.classify import Liveness, nanos, parse_expiration
from engine.cockroach.cluster import CockroachCluster
from engine.cockroach.connection import ConnectOptions, Endpoint, SqlUnavailable
from engine.cockroach.monitor import ClusterMonitor, MonitorTiming, Snapshot
from engine.cockroach.publish import Publisher
from engine.cockroach.queries import NodeRow
from engine.config.model import ClusterConfig, WorkloadConfig
from engine.events import MonitorStatus, NodeObserved, Notice

from .events import EventCollector


def monitor(rec: EventCollector, seeds: tuple[Endpoint, ...] = ()) -> ClusterMonitor:
    return ClusterMonitor(NodeBook(seeds, 26257), ConnectOptions(), Publisher(rec))


@pytest.mark.anyio
@pytest.mark.parametrize("seeds", [(), (Endpoint("127.0.0.1", 9),)], ids=["no address", "refused"])
async def test_waiting_for_the_first_node_is_not_down(seeds: tuple[Endpoint, ...]) -> None:
    rec = EventCollector()
    mon = monitor(rec, seeds)
    async with anyio.create_task_group() as tg:
        tg.start_soon(mon.run)
        await rec.wait_for(lambda e: isinstance(e, MonitorStatus), within=5)
        await anyio.sleep(2.5)  # several failed attempts later: still only waiting
        tg.cancel_scope.cancel()
    statuses = [(e.state, e.message) for e in rec.of(MonitorStatus) if isinstance(e, MonitorStatus)]
    assert statuses == [("waiting", "waiting for the first node")]
    assert rec.of(Notice) == []  # nothing alarming on screen before a node exists
    assert rec.state.monitor == "waiting"


@pytest.mark.anyio
async def test_a_cluster_that_answered_once_is_reconnecting_then_down() -> None:
    rec = EventCollector()
    mon = monitor(rec)
    mon._lost(SqlUnavailable("no SQL address known yet"), 1)
    assert mon.status == "waiting"
    mon._ever, mon.endpoint = True, Endpoint("10.0.0.1", 26257)
    mon._lost(SqlUnavailable("10.0.0.1:26257 connection lost"), 1)
    assert mon.status == "reconnecting"
    mon._lost(SqlUnavailable("no node answered"), 2)
    assert mon.status == "down"
    errors = [e for e in rec.of(Notice) if isinstance(e, Notice) and e.level == "error"]
    assert len(errors) == 1 and "cluster unreachable" in errors[0].message


@pytest.mark.anyio
async def test_one_nanosecond_before_expiry_is_live_through_the_monitor() -> None:
    """The poll's clock (a DECIMAL) and the expiration string meet as integers."""
    rec = EventCollector()
    mon = monitor(rec)
    exp = parse_expiration("1795756284.355475903,0")
    row = NodeRow(Liveness(1, 1, exp), address="10.0.0.1:26357", locality="cloud=a")
    for clock, want in (("1795756284.355475902", "live"), ("1795756284.355475903", "suspect")):
        snap = Snapshot(
            endpoint=Endpoint("10.0.0.1", 26257),
            reconnected=True,
            now_ns=nanos(Decimal(clock)),
            nodes=(row,),
        )
        mon._apply(snap)
        seen = [e for e in rec.of(NodeObserved) if isinstance(e, NodeObserved)]
        assert seen[-1].liveness == want, clock


def test_store_status_is_read_no_more_often_than_every_ten_seconds() -> None:
    """``kv_store_status`` fans out to every node ("cluster RPC; expensive!")."""
    assert MonitorTiming().store_every_s >= 10.0
    cluster = CockroachCluster(ClusterConfig(sql_urls=("h:26257",)), WorkloadConfig())
    assert cluster.timing.store_every_s >= 10.0
