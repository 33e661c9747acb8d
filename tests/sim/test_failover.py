"""Kills, revives and teardown on the 45-node rehearsal cluster (15 clouds x 3 nodes),
with ``server.time_until_store_dead = 1m15s`` as the demo sets it."""

from __future__ import annotations

import copy

import pytest

from engine.config.model import ClusterConfig, WorkloadConfig
from engine.events import NodeObserved, SettingApplied
from engine.sim.cluster import SimCluster

from .show import DEMO_CLUSTER, Show, fleet, health, liveness_changes, of_type, probe_changes

VICTIM = "cloud03/node-2"


@pytest.fixture(scope="module")
def settled_45() -> Show:
    show = fleet(15, 3)
    show.run_until_settled()
    return show


@pytest.fixture
def show(settled_45: Show) -> Show:
    """A private copy of the settled cluster, so each test kills its own nodes."""
    return copy.deepcopy(settled_45)


def test_fleet_joins_with_ids_in_join_order_and_distinct_addresses(settled_45: Show) -> None:
    first = {}
    for e in of_type(settled_45.events, NodeObserved):
        first.setdefault(e.node, e)
    assert len(first) == 45
    by_time = sorted(first.values(), key=lambda e: (e.t, e.node_id or 0))
    assert [e.node_id for e in by_time] == list(range(1, 46))
    assert all(e.liveness == "live" for e in first.values())
    assert len({e.address for e in first.values()}) == 45
    assert all(e.address.endswith(":26257") for e in first.values())
    assert all(e.locality == f"cloud={e.cloud}" for e in first.values())


def test_a_joining_node_is_probed_not_ready_then_ready_within_three_seconds() -> None:
    show = Show(SimCluster(DEMO_CLUSTER, WorkloadConfig(), seed=5))
    show.add_cloud("solo", 1)
    show.run(5.0)
    probes = probe_changes(show.events, "solo/node-1")
    assert [s for _, s in probes] == ["not_ready", "ready"]
    live = liveness_changes(show.events, "solo/node-1")
    assert live and live[0][1] == "live" and 1.0 <= live[0][0] <= 3.0
    assert show.cluster.liveness("solo/node-1") == "live"


def test_kill_one_node_suspect_then_dead_then_healed(show: Show) -> None:
    moves_before = show.cluster.replica_moves
    held = sum(VICTIM in reps for reps in show.cluster.placement())
    assert 35 <= held <= 45  # 1800 replicas over 45 nodes, balanced
    killed_at = show.t
    show.cluster.kill_node(VICTIM, killed_at)
    events = show.run(200.0)

    probes = probe_changes(events, VICTIM)
    assert probes[0] == (killed_at + 1.0, "down")
    changes = liveness_changes(events, VICTIM)
    assert [s for _, s in changes] == ["suspect", "dead"]
    suspect_t, dead_t = changes[0][0], changes[1][0]
    assert 3.0 < suspect_t - killed_at <= 6.0
    assert dead_t - suspect_t == pytest.approx(75.0, abs=1.0)
    assert show.cluster.liveness(VICTIM) == "dead"

    h = {e.t: e for e in health(events)}
    assert all(e.unavailable == 0 for e in h.values())
    assert all(h[t].under_replicated == 0 for t in h if t < suspect_t)
    stuck = {h[t].under_replicated for t in h if suspect_t <= t <= dead_t}
    assert stuck == {held}  # nothing moves before the node is dead
    healed = [t for t in h if t > dead_t and h[t].under_replicated == 0]
    assert healed, "under-replication never returned to 0"
    assert 5.0 <= healed[0] - dead_t <= 35.0
    assert h[max(h)].replicas == 1800
    assert show.cluster.replica_moves - moves_before >= held
    assert all(VICTIM not in reps for reps in show.cluster.placement())


def test_kill_a_whole_cloud_never_loses_quorum_and_heals(show: Show) -> None:
    victims = [f"cloud07/node-{i}" for i in (1, 2, 3)]
    for v in victims:
        show.cluster.kill_node(v, show.t)
    events = show.run(160.0)
    h = health(events)
    assert max(e.unavailable for e in h) == 0
    assert max(e.under_replicated for e in h) > 100  # the cloud held ~120 replicas
    assert h[-1].under_replicated == 0
    assert all(show.cluster.liveness(v) == "dead" for v in victims)
    placement = show.cluster.placement()
    assert all(len({n.split("/")[0] for n in reps}) == 3 for reps in placement)


def test_revive_before_dead_keeps_replicas_and_moves_nothing(show: Show) -> None:
    moves_before = show.cluster.replica_moves
    show.cluster.kill_node(VICTIM, show.t)
    events = show.run(30.0)
    assert liveness_changes(events, VICTIM)[-1][1] == "suspect"
    assert health(events)[-1].under_replicated > 0
    revived_at = show.t
    show.cluster.revive_node(VICTIM, revived_at)
    events = show.run(10.0)
    back = liveness_changes(events, VICTIM)
    assert [s for _, s in back] == ["live"]
    assert 1.0 <= back[0][0] - revived_at <= 3.0
    assert probe_changes(events, VICTIM)[-1][1] == "ready"
    assert health(events)[-1].under_replicated == 0
    assert show.cluster.replica_moves == moves_before
    events = show.run(80.0)  # well past the time it would have been dead
    assert all(e.under_replicated == 0 for e in health(events))
    assert show.cluster.liveness(VICTIM) == "live"


def test_a_node_revived_after_dead_comes_back_and_gets_replicas_again(show: Show) -> None:
    show.cluster.kill_node(VICTIM, show.t)
    show.run(120.0)
    assert show.cluster.liveness(VICTIM) == "dead"
    show.cluster.revive_node(VICTIM, show.t)
    events = show.run(90.0)
    assert liveness_changes(events, VICTIM)[-1][1] == "live"
    held = sum(VICTIM in reps for reps in show.cluster.placement())
    assert held >= 25  # rebalanced back toward the mean of 40


def test_removed_nodes_are_no_longer_reported_and_their_replicas_are_replaced(
    show: Show,
) -> None:
    show.cluster.remove_node(VICTIM, show.t)
    events = show.run(60.0)
    assert not [e for e in events if getattr(e, "node", None) == VICTIM]
    assert show.cluster.liveness(VICTIM) is None
    assert health(events)[-1].under_replicated == 0
    assert all(VICTIM not in reps for reps in show.cluster.placement())


def test_killing_twice_and_reviving_a_running_node_change_nothing(show: Show) -> None:
    show.cluster.revive_node(VICTIM, show.t)
    assert not liveness_changes(show.run(10.0), VICTIM)
    assert show.cluster.liveness(VICTIM) == "live"
    show.cluster.kill_node(VICTIM, show.t)
    first_kill = show.t
    show.run(2.0)
    show.cluster.kill_node(VICTIM, show.t)  # ignored: already down
    events = show.run(10.0)
    suspect = liveness_changes(events, VICTIM)[0][0]
    assert 3.0 < suspect - first_kill <= 6.0


def test_rf3_with_only_two_clouds_uses_distinct_nodes_across_both_clouds() -> None:
    show = fleet(2, 3, cluster=ClusterConfig(ranges=120))
    show.run_until_settled()
    for reps in show.cluster.placement():
        assert len(reps) == 3 and len(set(reps)) == 3
        assert {n.split("/")[0] for n in reps} == {"cloud00", "cloud01"}
    assert health(show.events)[-1].under_replicated == 0


def test_fewer_nodes_than_rf_leaves_ranges_under_replicated_but_available() -> None:
    show = fleet(1, 2, cluster=ClusterConfig(ranges=50))
    events = show.run(60.0)
    last = health(events)[-1]
    assert last.under_replicated == 50 and last.unavailable == 0
    assert all(len(reps) == 2 for reps in show.cluster.placement())


def test_store_dead_below_the_minimum_is_refused_and_the_default_applies() -> None:
    cluster = ClusterConfig(settings=(("server.time_until_store_dead", "30s"),), ranges=30)
    show = Show(SimCluster(cluster, WorkloadConfig(), seed=3))
    show.add_cloud("a", 1)
    events = show.run(5.0)
    refused = [e for e in of_type(events, SettingApplied)]
    assert [(e.name, e.ok) for e in refused] == [("server.time_until_store_dead", False)]
    assert "1m15s" in refused[0].message
    assert show.cluster.time_until_store_dead_s == 300.0


def test_a_restart_within_the_liveness_ttl_is_never_suspect(show: Show) -> None:
    show.cluster.kill_node(VICTIM, show.t)
    show.run(2.0)
    show.cluster.revive_node(VICTIM, show.t)
    events = show.run(20.0)
    assert liveness_changes(events, VICTIM) == []
    assert [s for _, s in probe_changes(show.events, VICTIM)][-3:] == [
        "down",
        "not_ready",
        "ready",
    ]
    assert all(e.under_replicated == 0 for e in health(events))
