"""``CockroachCluster`` end to end on four fake nodes: the story a kill tells on screen.

Kill a node: the probe sees its port die within about a second, the cluster calls it
suspect after the liveness TTL, dead after ``server.time_until_store_dead``, and its
ranges heal. The state fold (the same one the screen and the report use) records the
times per kill.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from engine.clock import ScaledClock
from engine.cockroach.cluster import CockroachCluster
from engine.cockroach.monitor import MonitorTiming
from engine.config.model import ClusterConfig, WorkloadConfig
from engine.events import (
    CloudInfo,
    ClusterHealthObserved,
    KillIssued,
    MonitorStatus,
    Notice,
    RunStarted,
    SettingApplied,
    WorkloadSample,
    stamped,
)

from .events import EventCollector
from .local_cluster import LocalCluster

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def cluster4() -> Iterator[LocalCluster]:
    """Four nodes (one more than the replication factor, so ranges can heal), short TTL and
    a 3 s ``time_until_store_dead`` so the whole story fits in a test."""
    base = Path(tempfile.mkdtemp(prefix="crossroom-crdb-", dir="/tmp"))
    c = LocalCluster(
        base,
        [("a", 2), ("b", 1), ("c", 1)],
        subnet=__import__("random").randrange(10, 250),
        ttl=2.0,
        heartbeat=1.0,
        status_every=1.0,
        time_until_store_dead="3s",
        heal_s=2.0,
    )
    with c:
        yield c
    shutil.rmtree(base, ignore_errors=True)


async def test_kill_story_probe_suspect_dead_healed(
    cluster4: LocalCluster, record_property: pytest.RecordProperty
) -> None:
    rec = EventCollector()
    clock = ScaledClock(1.0)
    clouds = tuple(CloudInfo(name=n, label=n.upper(), nodes=k) for n, k in cluster4.clouds)
    rec(stamped(RunStarted(run_id="t", demo="local", simulated=True, clouds=clouds), 0.0, 0.0))
    backend = CockroachCluster(
        ClusterConfig(
            sql_urls=cluster4.sql_urls,
            http_port=cluster4.http_port or 0,
            settings=(("server.time_until_store_dead", "1m15s"),),
        ),
        WorkloadConfig(max_rate=100, concurrency=3),
        # The fake nodes publish store metrics every 1 s (CockroachDB: every 10 s).
        timing=MonitorTiming(store_every_s=1.0, metrics_settle_s=1.5),
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(backend.run, rec.through_hub(clock), clock)

        def all_up(_: object) -> bool:
            s = rec.state
            return s.count("live") == 4 and all(n.probe == "ready" for n in s.nodes.values())

        await rec.wait_for(all_up, within=10)
        s = rec.state
        assert sorted(s.nodes) == ["a/node-1", "a/node-2", "b/node-1", "c/node-1"]
        assert s.monitor == "connected"
        await rec.wait_for(lambda e: isinstance(e, WorkloadSample) and e.ops_per_s > 50, within=8)
        await rec.wait_for(
            lambda e: isinstance(e, ClusterHealthObserved) and (e.queries_per_s or 0) > 0,
            within=8,
        )
        health = rec.state.health
        assert (health.ranges, health.under_replicated, health.unavailable) == (600, 0, 0)
        refused = [e for e in rec.events if isinstance(e, SettingApplied)]
        assert len(refused) == 1 and not refused[0].ok  # PostgreSQL has no cluster settings

        victim = cluster4.node(3)  # b/node-1
        rec(
            stamped(
                KillIssued(target="b/node-1", target_kind="node", nodes=("b/node-1",)),
                clock.now(),
                clock.wall(),
            )
        )
        cluster4.kill(victim.node_id)

        def healed(_: object) -> bool:
            kills = rec.state.kills
            return bool(kills) and kills[0].healed_t is not None

        await rec.wait_for(healed, within=20)
        errors = [e.errors_total for e in rec.events if isinstance(e, WorkloadSample)]
        tg.cancel_scope.cancel()

    k = rec.state.kills[0]
    assert k.probe_down_t is not None and k.suspect_t is not None and k.dead_t is not None
    assert k.healed_t is not None
    story = {
        "probe_down_s": k.probe_down_t - k.at_t,
        "suspect_s": k.suspect_t - k.at_t,
        "dead_s": k.dead_t - k.at_t,
        "healed_s": k.healed_t - k.at_t,
    }
    for key, value in story.items():
        record_property(key, round(value, 2))
    print(f"\nops/s: {rec.state.workload.history}")
    print("\nkill story: " + ", ".join(f"{k_} {v:.2f} s" for k_, v in story.items()))
    assert 0 <= story["probe_down_s"] < 1.5
    assert story["probe_down_s"] < story["suspect_s"] <= 2.0 + 1.0 + 1.5  # TTL + beat + poll
    assert story["suspect_s"] < story["dead_s"] < story["healed_s"]
    # Health really showed the damage before the heal (not a stale clean reading).
    under = [e.under_replicated for e in rec.events if isinstance(e, ClusterHealthObserved)]
    assert max(under) > 0 and under[-1] == 0
    assert errors == sorted(errors)  # cumulative, counted, never raised
    assert max(rec.state.workload.history[-3:]) > 50  # the load kept going through the kill


async def test_unreachable_cluster_is_reported_then_found_through_added_addresses(
    healthy_cluster: LocalCluster,
) -> None:
    """Nothing answers at first (the first cloud's nodes do not exist yet): the backend is
    "waiting for the first node", not down, and says nothing alarming; once the plan hands
    over SQL addresses it finds the cluster."""
    rec = EventCollector()
    backend = CockroachCluster(
        ClusterConfig(sql_urls=("127.0.0.1:9",), http_port=healthy_cluster.http_port or 0),
        WorkloadConfig(enabled=False),
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(backend.run, rec, ScaledClock(1.0))
        first = await rec.wait_for(lambda e: isinstance(e, MonitorStatus), within=5)
        assert isinstance(first, MonitorStatus) and first.state == "waiting"
        assert first.message == "waiting for the first node"
        await anyio.sleep(2.5)  # still trying, quietly: no notice at all
        assert [e for e in rec.events if isinstance(e, Notice)] == []
        assert [e.state for e in rec.events if isinstance(e, MonitorStatus)] == ["waiting"]

        bad = backend.add_sql_addresses([n.sql_address for n in healthy_cluster.nodes] + ["a:b:c"])
        assert bad == ["a:b:c"]
        await rec.wait_for(lambda e: rec.state.count("live") == 3, within=6)
        assert rec.state.monitor == "connected"
        tg.cancel_scope.cancel()
